package io.aimesh.filter.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.testing.Mesh;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * No client is trusted by its address, loopback included: Envoy's x-envoy-* control headers from a
 * client change nothing and never reach a model server, x-forwarded-for does not make a client
 * internal, and a client's copy of an internal header never arrives. Regression: the HCM took
 * loopback and private addresses as internal, so {@code x-envoy-upstream-rq-timeout-ms: 1} turned a
 * request into a 504.
 */
class ClientControlHeadersIT {
    private static Mesh mesh;

    @BeforeAll
    static void start() throws IOException {
        mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(1_000_000).start();
    }

    @AfterAll
    static void stop() throws IOException {
        mesh.close();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({
            "x-envoy-upstream-rq-timeout-ms, 1",
            "x-envoy-upstream-rq-per-try-timeout-ms, 1",
            "x-envoy-expected-rq-timeout-ms, 1",
            "x-envoy-max-retries, 7",
            "x-envoy-retry-on, '5xx,reset'",
            "x-envoy-retry-grpc-on, cancelled",
            "x-envoy-retriable-status-codes, 200",
            "x-envoy-retriable-header-names, x-model-sim-instance",
            "x-envoy-hedge-on-per-try-timeout, true",
            "x-envoy-upstream-rq-timeout-alt-response, 204",
            "x-envoy-upstream-alt-stat-name, client-chosen",
            "x-envoy-force-trace, true",
            "x-envoy-ip-tags, trusted",
            "x-envoy-original-url, http://elsewhere/",
            "x-envoy-downstream-service-cluster, admin",
            "x-envoy-internal, true",
    })
    void clientControlHeader_hasNoEffect_andNeverReachesTheModelServer(String name, String value) {
        // x-forwarded-for names a private address: it must not make the client internal either.
        HttpResponse<String> response = mesh.chat(Mesh.GLOBEX_KEY, false, 2,
                Map.of(name, value, "x-forwarded-for", "10.0.0.1"));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Map<String, List<String>> upstream = upstreamHeaders(response);
        assertThat(upstream.getOrDefault(name, List.of())).as("%s upstream", name).doesNotContain(value);
        // Envoy names the client external, by the connection's address.
        assertThat(upstream.get("x-envoy-external-address")).containsExactly("127.0.0.1");
    }

    @Test
    void clientCopiesOfInternalHeaders_neverArrive() {
        HttpResponse<String> response = mesh.chat(Mesh.GLOBEX_KEY, false, 2, Map.of(
                "x-aimesh-tenant", "acme", "x-aimesh-decision", "forged", "x-aimesh-route-version", "forged",
                "x-aimesh-shadow", "true", "x_aimesh_tenant", "acme", "x_aimesh_pool", "llama-v1"));

        assertThat(response.statusCode()).isEqualTo(200);
        Map<String, List<String>> upstream = upstreamHeaders(response);
        assertThat(upstream.get("x-aimesh-tenant")).as("the filter's verdict alone").containsExactly("globex");
        assertThat(upstream).doesNotContainKeys("x-aimesh-decision", "x-aimesh-route-version", "x-aimesh-shadow",
                "x_aimesh_tenant", "x_aimesh_pool");
    }

    /** The request headers the model server that answered {@code response} received. */
    static Map<String, List<String>> upstreamHeaders(HttpResponse<String> response) {
        String instance = response.headers().firstValue("x-model-sim-instance").orElseThrow();
        return mesh.sims().stream().filter(sim -> sim.instanceName().equals(instance)).findFirst()
                .map(ModelSimServer::lastRequestHeaders).orElseThrow();
    }
}
