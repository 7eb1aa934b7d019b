package io.aimesh.xds;

import io.aimesh.testing.Mesh;
import io.aimesh.testing.Traffic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The two balancing modes with no per-request hop, on real Envoy. Two endpoints, one fast and one a
 * twentieth as fast that decodes two sequences at a time, so that under load requests pile up at the
 * slow one:
 * <ul>
 *   <li>{@code orca}: Envoy's client-side weighted round robin on the ORCA load reports model-sim
 *       sends in {@code endpoint-load-metrics}; the slow endpoint's utilization (running and
 *       waiting over its batch) is far higher for the same request rate, so its weight, rate over
 *       utilization, is far lower.</li>
 *   <li>{@code eds-weights}: the control plane scrapes both endpoints' vLLM metrics every 100 ms
 *       and sets EDS weights of 100 / (1 + running + 2 × waiting) each second; the slow endpoint
 *       holds several requests, the fast one few.</li>
 * </ul>
 */
class WeightedBalancingIT {
    @ParameterizedTest
    @ValueSource(strings = {"orca", "eds-weights"})
    void slowEndpoint_getsLessTraffic(String mode) throws Exception {
        try (Mesh mesh = Mesh.builder().canary(100, 0).start();
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
                      balancing: {mode: %s, metricsInterval: 100ms}
                    ---
                    apiVersion: aimesh.io/v1alpha1
                    kind: InferencePool
                    metadata: {name: llama-v2}
                    spec:
                      endpoints: ["%s"]
                    """.formatted(fast.instanceName(), slow.instanceName(), mode, mesh.sims().get(2).instanceName()));
            Traffic probe = mesh.traffic();
            await().atMost(Duration.ofSeconds(10)).until(() -> "fast".equals(probe.once(Map.of())));

            // orca: reports flow from the first responses; weights apply a second after an endpoint's
            // first report and are recomputed every second. eds-weights: recomputed every second.
            mesh.traffic().send(300, 12, Map.of());
            Traffic measured = mesh.traffic().send(600, 12, Map.of());

            // Round robin would give each half (300); weighted, the slow endpoint gets well under a quarter.
            assertThat(measured.count("fast") + measured.count("slow")).isEqualTo(600);
            assertThat(measured.count("slow")).as("slow endpoint's share of 600").isLessThan(150);
        }
    }
}
