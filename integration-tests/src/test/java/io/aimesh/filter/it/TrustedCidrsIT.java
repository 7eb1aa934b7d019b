package io.aimesh.filter.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.testing.Mesh;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Gateway's {@code trustedCidrs} are the only internal addresses: a client from one (loopback here)
 * may use Envoy's control headers, and still cannot pass on an internal aimesh header.
 */
class TrustedCidrsIT {
    private static Mesh mesh;

    @BeforeAll
    static void start() throws IOException {
        mesh = Mesh.builder().filter("closed").gatewaySpec("  trustedCidrs: [127.0.0.0/8]").start();
    }

    @AfterAll
    static void stop() throws IOException {
        mesh.close();
    }

    @Test
    void aTrustedClient_mayShortenTheUpstreamTimeout() {
        HttpResponse<String> response = mesh.chat(Mesh.GLOBEX_KEY, false, 40,
                Map.of("x-envoy-upstream-rq-timeout-ms", "1"));

        assertThat(response.statusCode()).isEqualTo(504);
    }

    @Test
    void aTrustedClient_isInternal_butItsInternalAimeshHeadersAreStillRemoved() {
        HttpResponse<String> response = mesh.chat(Mesh.GLOBEX_KEY, false, 2,
                Map.of("x-aimesh-tenant", "acme", "x-aimesh-decision", "forged"));

        assertThat(response.statusCode()).isEqualTo(200);
        String instance = response.headers().firstValue("x-model-sim-instance").orElseThrow();
        Map<String, List<String>> upstream = mesh.sims().stream().filter(sim -> sim.instanceName().equals(instance))
                .findFirst().orElseThrow().lastRequestHeaders();
        assertThat(upstream).doesNotContainKeys("x-envoy-external-address", "x-aimesh-decision");
        assertThat(upstream.get("x-aimesh-tenant")).containsExactly("globex");
    }
}
