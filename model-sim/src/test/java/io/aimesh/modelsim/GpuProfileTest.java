package io.aimesh.modelsim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GpuProfileTest {

    private static final GpuProfile GPU = GpuProfile.DEFAULT;

    @Test
    void defaultProfile_decodesBetween50And100TokensPerSecondAtBatchOne() {
        double tokensPerSecond = 1e9 / GPU.stepNanos(1, 0, 1.0);

        assertThat(tokensPerSecond).isBetween(50.0, 100.0);
    }

    @Test
    void aggregateThroughput_growsSublinearlyWithBatch() {
        double one = throughput(1);
        double eight = throughput(8);
        double thirtyTwo = throughput(32);

        assertThat(eight).isGreaterThan(one).isLessThan(8 * one);
        assertThat(thirtyTwo).isGreaterThan(eight).isLessThan(4 * eight);
    }

    @Test
    void stepNanos_addsPrefillPerPromptTokenAndDividesBySpeed() {
        assertThat(GPU.stepNanos(1, 1000, 1.0) - GPU.stepNanos(1, 0, 1.0)).isEqualTo(100_000_000L);
        assertThat(GPU.stepNanos(4, 0, 2.0)).isEqualTo(GPU.stepNanos(4, 0, 1.0) / 2);
    }

    @Test
    void constructor_rejectsNegativeCosts() {
        assertThatThrownBy(() -> new GpuProfile(-1, 0, 0))
                .hasMessage("baseStepMillis: -1.0 (expected: >= 0)");
    }

    private static double throughput(int batch) {
        return batch * 1e9 / GPU.stepNanos(batch, 0, 1.0);
    }
}
