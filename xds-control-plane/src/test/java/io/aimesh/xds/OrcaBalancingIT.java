package io.aimesh.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A pool with {@code balancing.mode: orca}: real Envoy's client-side weighted round robin, fed by the
 * ORCA load reports model-sim sends in {@code endpoint-load-metrics}, with no per-request hop. Two
 * endpoints, one fast and one a twentieth as fast that decodes two sequences at a time: under load the
 * slow one's utilization (running and waiting over its batch) is far higher for the same request rate,
 * so its weight, rate over utilization, is far lower.
 */
class OrcaBalancingIT {
    @Test
    void slowEndpoint_getsLessTraffic_fromItsOwnLoadReports() throws Exception {
        try (Mesh mesh = Mesh.start(false, 100, 0);
             ModelSimServer fast = ModelSimServer.start(ModelSimConfig.builder().port(0).model(Mesh.MODEL).version("fast")
                     .speed(20).maxSeqs(64).seed(21).build());
             ModelSimServer slow = ModelSimServer.start(ModelSimConfig.builder().port(0).model(Mesh.MODEL).version("slow")
                     .speed(1).maxSeqs(2).seed(22).build())) {
            mesh.writePolicy("pools.yaml", """
                    apiVersion: aimesh.io/v1alpha1
                    kind: InferencePool
                    metadata: {name: llama-v1}
                    spec:
                      endpoints: ["%s", "%s"]
                      balancing: {mode: orca}
                    ---
                    apiVersion: aimesh.io/v1alpha1
                    kind: InferencePool
                    metadata: {name: llama-v2}
                    spec:
                      endpoints: ["%s"]
                    """.formatted(fast.instanceName(), slow.instanceName(), mesh.sims.get(2).instanceName()));
            Traffic probe = mesh.traffic();
            await().atMost(Duration.ofSeconds(10)).until(() -> "fast".equals(probe.once(Map.of())));

            // Reports flow from the first responses; weights apply a second after an endpoint's first
            // report (blackout) and are recomputed every second.
            mesh.traffic().send(300, 12, Map.of());
            Traffic measured = mesh.traffic().send(600, 12, Map.of());

            // Round robin would give each half (300). Weighted by rate over utilization, the slow
            // endpoint, whose utilization stays above 1 while the fast one's stays near 0.2, gets
            // well under a quarter.
            assertThat(measured.count("fast") + measured.count("slow")).isEqualTo(600);
            assertThat(measured.count("slow")).as("slow endpoint's share of 600").isLessThan(150);
        }
    }
}
