package io.aimesh.bench.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The noisy-neighbour benchmark at smoke size against real Envoy: it runs both modes and reports them. */
class NoisyNeighbourSmokeIT {
    @Test
    void bothModes_runAndReport() throws Exception {
        List<String> progress = new ArrayList<>();
        List<NoisyNeighbourBenchmark.ModeResult> results =
                NoisyNeighbourBenchmark.run(NoisyNeighbourBenchmark.Options.smoke(), progress::add);

        assertThat(results).extracting(NoisyNeighbourBenchmark.ModeResult::mode).containsExactly("least-request", "aimesh");
        for (NoisyNeighbourBenchmark.ModeResult result : results) {
            assertThat(result.aloneP99()).as(result.mode()).isPositive();
            assertThat(result.noisyPerSecond()).as(result.mode()).isPositive();
        }
        assertThat(NoisyNeighbourBenchmark.markdown(results, NoisyNeighbourBenchmark.Options.smoke()))
                .contains("| least-request |").contains("| aimesh |");
    }
}
