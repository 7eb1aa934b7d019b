package io.aimesh.xds.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.policy.Rollout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RolloutJudgeTest {
    private static final Rollout.Analysis ANALYSIS = new Rollout.Analysis(3, Duration.ofSeconds(30), List.of(
            new Rollout.Rule(Rollout.Metric.ERROR_RATE, 0.01), new Rollout.Rule(Rollout.Metric.TTFT_P99, 1.3)));

    @Test
    void threeFailuresInARow_failTheErrorRule_afterAThousandGoodRequests() {
        List<VersionNumbers[]> slots = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            slots.add(slot(100, 0, 10, 0, 100_000));
        }
        assertThat(RolloutJudge.failure(ANALYSIS, slots)).isNull();

        slots.add(slot(100, 0, 3, 3, 100_000));
        slots.add(slot(100, 0, 2, 0, 100_000));
        RolloutJudge.Finding finding = RolloutJudge.failure(ANALYSIS, slots);

        assertThat(finding).isNotNull();
        assertThat(finding.rule().metric()).isEqualTo(Rollout.Metric.ERROR_RATE);
        assertThat(finding.toString()).startsWith("errorRate: 3 of the canary's last 5 requests failed");
    }

    @Test
    void slowCanary_failsTheLatencyRule_onAFewSlowRequests() {
        List<VersionNumbers[]> slots = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            slots.add(slot(50, 0, 5, 0, 100_000));
        }
        slots.add(slot(50, 0, 5, 0, 600_000));

        RolloutJudge.Finding finding = RolloutJudge.failure(ANALYSIS, slots);

        assertThat(finding).isNotNull();
        assertThat(finding.rule().metric()).isEqualTo(Rollout.Metric.TTFT_P99);
    }

    @Test
    void aHealthyCanary_withTheBaselinesNoise_passesAThousandEvaluations() {
        // Both versions draw from the same law, errors at 0.5 %: over 1,000 evaluations of a
        // sliding window none may fail (each fails with probability below ALPHA = 1e-3).
        SplittableRandom random = new SplittableRandom(42);
        List<VersionNumbers[]> slots = new ArrayList<>();
        int failures = 0;
        for (int evaluation = 0; evaluation < 1_000; evaluation++) {
            VersionNumbers base = new VersionNumbers();
            VersionNumbers canary = new VersionNumbers();
            fill(base, 45, random);
            fill(canary, 5, random);
            slots.add(new VersionNumbers[] {base, canary});
            if (slots.size() > 120) {
                slots.remove(0);
            }
            if (RolloutJudge.failure(ANALYSIS, slots) != null) {
                failures++;
            }
        }
        assertThat(failures).isZero();
    }

    @Test
    void aStepPasses_onlyWhenEveryRuleHoldsOverIt() {
        VersionNumbers base = slot(1000, 5, 0, 0, 100_000)[0];
        VersionNumbers good = slot(0, 0, 200, 1, 110_000)[1];
        VersionNumbers slow = slot(0, 0, 200, 0, 200_000)[1];

        assertThat(RolloutJudge.unmet(ANALYSIS, base, good)).isNull();
        assertThat(RolloutJudge.unmet(ANALYSIS, base, slow).rule().metric()).isEqualTo(Rollout.Metric.TTFT_P99);
    }

    @Test
    void chernoffBound_isExactForAllBad_andNeverBelowTheTrueTail() {
        assertThat(Math.exp(RolloutJudge.logUpperTail(3, 3, 0.01))).isCloseTo(1e-6, org.assertj.core.api.Assertions.within(1e-9));
        // P(X >= 3 | 6, 0.01) = 1.97e-5; the bound may only be larger.
        assertThat(Math.exp(RolloutJudge.logUpperTail(3, 6, 0.01))).isGreaterThan(1.97e-5);
        assertThat(RolloutJudge.logUpperTail(1, 100, 0.01)).isZero();
    }

    @Test
    void lateThreshold_isTheLargestTtftLimit_andALateSampleCountsAboveEveryLimit() {
        Rollout.Analysis both = new Rollout.Analysis(2, Duration.ofSeconds(30), List.of(
                new Rollout.Rule(Rollout.Metric.TTFT_P50, 2.0), new Rollout.Rule(Rollout.Metric.TTFT_P99, 1.3),
                new Rollout.Rule(Rollout.Metric.ERROR_RATE, 0.01)));
        VersionNumbers baseline = slot(99, 0, 0, 0, 0)[0];
        assertThat(RolloutJudge.lateThresholdMicros(both, baseline)).as("99 samples: no p99 yet").isZero();

        baseline.add(slot(1, 0, 0, 0, 0)[0]);
        long threshold = RolloutJudge.lateThresholdMicros(both, baseline);
        double p50Limit = 2.0 * baseline.ttft.quantile(0.5);
        double p99Limit = 1.3 * baseline.ttft.quantile(0.99);

        assertThat((double) threshold).isGreaterThanOrEqualTo(Math.max(p50Limit, p99Limit));
        LatencyHistogram late = new LatencyHistogram();
        late.record(threshold + 1);
        assertThat(late.countAbove(p50Limit)).isEqualTo(1);
        assertThat(late.countAbove(p99Limit)).isEqualTo(1);
        assertThat(RolloutJudge.lateThresholdMicros(new Rollout.Analysis(2, Duration.ofSeconds(30), List.of(
                new Rollout.Rule(Rollout.Metric.ERROR_RATE, 0.01))), baseline)).as("no latency rule").isZero();
    }

    @Test
    void overloadRefusals_andAnOutputLengthDrift_failTheirRules() {
        Rollout.Analysis analysis = new Rollout.Analysis(2, Duration.ofSeconds(30), List.of(
                new Rollout.Rule(Rollout.Metric.OVERLOAD_RATE, 0.01), new Rollout.Rule(Rollout.Metric.OUTPUT_LENGTH_DRIFT, 0.2)));
        List<VersionNumbers[]> overloaded = new ArrayList<>();
        overloaded.add(slot(100, 0, 10, 0, 100_000));
        VersionNumbers[] refused = slot(100, 0, 0, 0, 100_000);
        refused[1].overloads = 3;
        overloaded.add(refused);

        RolloutJudge.Finding overload = RolloutJudge.failure(analysis, overloaded);

        assertThat(overload).isNotNull();
        assertThat(overload.rule().metric()).isEqualTo(Rollout.Metric.OVERLOAD_RATE);

        VersionNumbers[] lengths = slot(300, 0, 300, 0, 100_000);
        lengths[0].outputMeasured = 300;
        lengths[0].outputTokens = 300 * 100;
        lengths[1].outputMeasured = 300;
        lengths[1].outputTokens = 300 * 115; // +15 %: within 20 %
        assertThat(RolloutJudge.failure(analysis, List.<VersionNumbers[]>of(lengths))).isNull();
        lengths[1].outputTokens = 300 * 130; // +30 %
        RolloutJudge.Finding drift = RolloutJudge.failure(analysis, List.<VersionNumbers[]>of(lengths));
        assertThat(drift).isNotNull();
        assertThat(drift.toString()).startsWith("outputLengthDrift: canary's mean output 130.0 tokens is +30.0% of the baseline's 100.0");
    }

    /** A slot: {@code base} baseline and {@code canary} canary requests, some failed, each of this ttft. */
    private static VersionNumbers[] slot(int base, int baseErrors, int canary, int canaryErrors, long ttftMicros) {
        VersionNumbers b = new VersionNumbers();
        VersionNumbers c = new VersionNumbers();
        b.requests = base;
        b.errors = baseErrors;
        c.requests = canary;
        c.errors = canaryErrors;
        for (int i = 0; i < base; i++) {
            b.ttft.record(100_000 + i % 20 * 1_000);
        }
        for (int i = 0; i < canary; i++) {
            c.ttft.record(ttftMicros + i % 20 * 1_000);
        }
        return new VersionNumbers[] {b, c};
    }

    private static void fill(VersionNumbers numbers, int requests, SplittableRandom random) {
        for (int i = 0; i < requests; i++) {
            numbers.requests++;
            if (random.nextDouble() < 0.005) {
                numbers.errors++;
            }
            numbers.ttft.record((long) (100_000 * Math.exp(0.3 * random.nextGaussian())));
        }
    }
}
