package io.aimesh.xds.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

    @Test
    void mergedReplicas_giveTheQuantilesOfAllSamples_notTheAverageOfTheirs() {
        // One replica sees a fast version, the other a slow one: the merged p99 is the slow one's
        // tail, which averaging the two p99s misses by far.
        SplittableRandom random = new SplittableRandom(7);
        LatencyHistogram fast = new LatencyHistogram();
        LatencyHistogram slow = new LatencyHistogram();
        long[] all = new long[20_000];
        for (int i = 0; i < 10_000; i++) {
            all[i] = 50_000 + random.nextInt(10_000); // 50-60 ms
            fast.record(all[i]);
            all[10_000 + i] = 400_000 + random.nextInt(200_000); // 400-600 ms
            slow.record(all[10_000 + i]);
        }
        LatencyHistogram merged = new LatencyHistogram();
        merged.add(fast);
        merged.add(slow);
        Arrays.sort(all);
        double trueP99 = all[(int) Math.ceil(0.99 * all.length) - 1];
        double trueP50 = all[(int) Math.ceil(0.50 * all.length) - 1];

        assertThat(merged.total()).isEqualTo(20_000);
        assertThat(merged.quantile(0.99)).isCloseTo(trueP99, within(0.05 * trueP99));
        assertThat(merged.quantile(0.50)).isCloseTo(trueP50, within(0.05 * trueP50));
        double averaged = (fast.quantile(0.99) + slow.quantile(0.99)) / 2;
        assertThat(averaged).isLessThan(0.7 * trueP99);
    }

    @Test
    void countAbove_countsOnlyWhatIsCertainlyAbove() {
        LatencyHistogram histogram = new LatencyHistogram();
        for (long micros : new long[] {1_000, 2_000, 10_000, 100_000}) {
            histogram.record(micros);
        }

        assertThat(histogram.countAbove(5_000)).isEqualTo(2);
        assertThat(histogram.countAbove(100_000)).isZero();
        assertThat(histogram.countAbove(0)).isEqualTo(4);
        assertThat(new LatencyHistogram().quantile(0.5)).isNaN();
    }
}
