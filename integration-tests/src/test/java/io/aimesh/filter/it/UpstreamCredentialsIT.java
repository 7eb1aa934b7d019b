package io.aimesh.filter.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.testing.Mesh;
import io.aimesh.testing.TestIssuer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A tenant's credential stops at the gateway: the model servers never receive the API key
 * ({@code authorization}) or the JWT, only the tenant the filter identified. Regression: the API key
 * was forwarded to the model servers.
 */
class UpstreamCredentialsIT {
    private static final String JWT_HEADER = "x-test-jwt";
    private static final TestIssuer ISSUER = new TestIssuer("k1");
    private static Mesh mesh;

    @BeforeAll
    static void start() throws IOException {
        String identity = "{trustedHop: true, jwt: {issuer: \"%s\", audiences: [aimesh], jwks: '%s', tenantClaim: tenant, header: %s}}"
                .formatted(TestIssuer.ISSUER, ISSUER.jwks(), JWT_HEADER);
        mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(1_000_000).defaultMaxTokens(256).extraPolicies("""
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: hooli}
                spec:
                  identity: {jwtClaim: hooli}
                """).gatewayIdentity(identity).start();
    }

    @AfterAll
    static void stop() throws IOException {
        mesh.close();
    }

    @Test
    void theApiKey_neverReachesTheModelServer() {
        HttpResponse<String> response = mesh.chat(Mesh.GLOBEX_KEY, false, 2, Map.of());

        assertThat(response.statusCode()).isEqualTo(200);
        Map<String, List<String>> upstream = upstreamHeaders(response);
        assertThat(upstream).doesNotContainKey("authorization");
        assertThat(upstream.get("x-aimesh-tenant")).containsExactly("globex");
    }

    @Test
    void theJwt_neverReachesTheModelServer() {
        String token = ISSUER.token(TestIssuer.claims(TestIssuer.ISSUER, "aimesh", "hooli",
                System.currentTimeMillis() / 1000 + 3600));
        HttpResponse<String> response = mesh.chat(null, false, 2, Map.of(JWT_HEADER, token));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Map<String, List<String>> upstream = upstreamHeaders(response);
        assertThat(upstream).doesNotContainKeys(JWT_HEADER, "authorization");
        assertThat(upstream.get("x-aimesh-tenant")).containsExactly("hooli");
    }

    private static Map<String, List<String>> upstreamHeaders(HttpResponse<String> response) {
        String instance = response.headers().firstValue("x-model-sim-instance").orElseThrow();
        return mesh.sims().stream().filter(sim -> sim.instanceName().equals(instance)).findFirst()
                .map(ModelSimServer::lastRequestHeaders).orElseThrow();
    }
}
