package io.aimesh.xds.rollout;

import io.aimesh.filter.api.LatencyBuckets;
import io.aimesh.policy.Rollout;
import java.util.List;
import java.util.Locale;

/**
 * Judges a canary against its baseline on the numbers both saw on the same live traffic.
 *
 * <p><b>Failing fast.</b> A canary that turns bad must be caught within seconds and a handful of
 * bad answers, not after a fixed analysis interval. Every rule is read as a bound on a share:
 * {@code errorRate: +1%} says at most (baseline's rate + 1 %) of the canary's requests fail;
 * {@code ttftP99: 1.3x} says at most 1 % of its requests take longer than 1.3 times the baseline's
 * p99. The judge tests that bound on the canary's most recent requests: for each suffix of the
 * window (the last slot, the last two, ... all of them), the chance of seeing at least as many
 * bad requests if the bound held. The suffixes tried are the last 1, 2, 4, 8, ... slots and the
 * whole window: a fault's onset is within a factor of two of one of them. Chernoff's bound on the binomial tail,
 * {@code P(X >= k) <= exp(-n KL(k/n || p))}, gives it in constant time and never understates it.
 * The canary fails when that chance is below {@link #ALPHA} divided by the number of suffixes
 * tried (Bonferroni, about ten for the default 2 minute window), so a canary that keeps to the bound fails
 * an evaluation with probability below {@code ALPHA}. A suffix needs the analysis' minSamples
 * (default 2) requests. Scanning suffixes finds the onset of a fault without diluting it in the
 * good history before it: three failures in three requests fail a {@code +1%} rule at once
 * (p ≈ 1e-6), however many good requests came before.
 *
 * <p><b>Passing slowly.</b> A step passes only on everything since it began, after its minimum
 * time and requests: each rule's point estimate must hold (canary quantile within the factor
 * of the baseline's, rate within the margin, mean output length within the drift).
 *
 * <p>See Chernoff, "A measure of asymptotic efficiency for tests of a hypothesis based on the sum
 * of observations" (1952), and, for the comparison with fixed-interval analysis, the benchmark
 * {@code RolloutDetectionBenchmark}.
 */
final class RolloutJudge {
    /** The most a healthy canary may fail one evaluation, over all suffixes and rules' tests. */
    static final double ALPHA = 2e-3;
    /** Answers of each version before the mean output length is compared: its noise is large. */
    static final long DRIFT_SAMPLES = 200;

    /** A rule's outcome, with the numbers behind it. */
    record Finding(Rollout.Rule rule, String detail) {
        @Override
        public String toString() {
            return rule.metric().field() + ": " + detail;
        }
    }

    private RolloutJudge() {
    }

    /**
     * The first rule the canary fails in the recent window, or {@code null}.
     *
     * @param slots the window's slots, oldest first, each {@code {baseline, canary}}
     */
    static Finding failure(Rollout.Analysis analysis, List<VersionNumbers[]> slots) {
        if (slots.isEmpty()) {
            return null;
        }
        VersionNumbers baseline = new VersionNumbers();
        VersionNumbers whole = new VersionNumbers();
        for (VersionNumbers[] slot : slots) {
            baseline.add(slot[0]);
            whole.add(slot[1]);
        }
        int suffixes = 1 + (31 - Integer.numberOfLeadingZeros(slots.size())) + (Integer.bitCount(slots.size()) == 1 ? 0 : 1);
        double logAlpha = Math.log(ALPHA / suffixes);
        for (Rollout.Rule rule : analysis.rules()) {
            if (rule.metric() == Rollout.Metric.OUTPUT_LENGTH_DRIFT) {
                Finding drift = drift(rule, baseline, whole);
                if (drift != null) {
                    return drift;
                }
                continue;
            }
            VersionNumbers canary = new VersionNumbers();
            int length = 1;
            for (int i = slots.size() - 1; i >= 0; i--) {
                canary.add(slots.get(i)[1]);
                int taken = slots.size() - i;
                if (taken != length && i != 0) {
                    continue;
                }
                length *= 2;
                Finding finding = tail(rule, analysis.minSamples(), baseline, canary, logAlpha);
                if (finding != null) {
                    return finding;
                }
            }
        }
        return null;
    }

    /** A rule the canary's test rejects on this suffix, or null. */
    private static Finding tail(Rollout.Rule rule, long minSamples, VersionNumbers baseline, VersionNumbers canary,
                                double logAlpha) {
        Bound bound = bound(rule, minSamples, baseline, canary);
        if (bound == null || bound.n < minSamples || bound.k <= bound.p * bound.n) {
            return null;
        }
        double logP = logUpperTail(bound.k, bound.n, bound.p);
        if (logP >= logAlpha) {
            return null;
        }
        return new Finding(rule, String.format(Locale.ROOT, "%d of the canary's last %d requests %s (allowed: %.2f%%); "
                + "p <= %.1e", bound.k, bound.n, bound.what, 100 * bound.p, Math.exp(logP)));
    }

    /** A share bound: at most {@code p} of {@code n} may be bad, {@code k} are. */
    private record Bound(long k, long n, double p, String what) {
    }

    private static Bound bound(Rollout.Rule rule, long minSamples, VersionNumbers baseline, VersionNumbers canary) {
        return switch (rule.metric()) {
            case ERROR_RATE -> new Bound(canary.errors, canary.requests, Math.min(1, baseline.errorRate() + rule.limit()),
                    String.format(Locale.ROOT, "failed (baseline: %.2f%% of %d)", 100 * baseline.errorRate(), baseline.requests));
            case OVERLOAD_RATE -> new Bound(canary.overloads, canary.attempts(),
                    Math.min(1, baseline.overloadRate() + rule.limit()), String.format(Locale.ROOT,
                            "were refused as overload (baseline: %.2f%% of %d)", 100 * baseline.overloadRate(), baseline.attempts()));
            case TTFT_P50, TTFT_P99, TPOT_P50, TPOT_P99 -> {
                LatencyHistogram base = latency(rule, baseline);
                double q = rule.metric().quantile();
                if (base.total() < Math.max(minSamples, Math.ceil(1 / (1 - q)))) {
                    yield null; // no baseline quantile to compare with yet
                }
                double limit = rule.limit() * base.quantile(q);
                LatencyHistogram mine = latency(rule, canary);
                yield new Bound(mine.countAbove(limit), mine.total(), 1 - q, String.format(Locale.ROOT,
                        "took over %.1f ms (%sx the baseline's p%d %.1f ms over %d)", limit / 1000, trim(rule.limit()),
                        Math.round(q * 100), base.quantile(q) / 1000, base.total()));
            }
            case OUTPUT_LENGTH_DRIFT -> null;
        };
    }

    /**
     * The first rule that does not hold over a step so far, or {@code null} when all do; a rule with
     * no samples of either version (tpot without streams) does not hold a step back.
     */
    static Finding unmet(Rollout.Analysis analysis, VersionNumbers baseline, VersionNumbers canary) {
        for (Rollout.Rule rule : analysis.rules()) {
            Finding finding = switch (rule.metric()) {
                case ERROR_RATE -> canary.errorRate() <= baseline.errorRate() + rule.limit() ? null
                        : new Finding(rule, String.format(Locale.ROOT, "canary %.2f%% of %d, baseline %.2f%% of %d",
                                100 * canary.errorRate(), canary.requests, 100 * baseline.errorRate(), baseline.requests));
                case OVERLOAD_RATE -> canary.overloadRate() <= baseline.overloadRate() + rule.limit() ? null
                        : new Finding(rule, String.format(Locale.ROOT, "canary %.2f%% of %d, baseline %.2f%% of %d",
                                100 * canary.overloadRate(), canary.attempts(), 100 * baseline.overloadRate(), baseline.attempts()));
                case TTFT_P50, TTFT_P99, TPOT_P50, TPOT_P99 -> latencyUnmet(rule, analysis.minSamples(), baseline, canary);
                case OUTPUT_LENGTH_DRIFT -> baseline.outputMeasured == 0 && canary.outputMeasured == 0 ? null
                        : baseline.outputMeasured < DRIFT_SAMPLES || canary.outputMeasured < DRIFT_SAMPLES
                        ? new Finding(rule, "waiting for " + DRIFT_SAMPLES + " answers of each version (baseline "
                                + baseline.outputMeasured + ", canary " + canary.outputMeasured + ")")
                        : drift(rule, baseline, canary);
            };
            if (finding != null) {
                return finding;
            }
        }
        return null;
    }

    private static Finding latencyUnmet(Rollout.Rule rule, long minSamples, VersionNumbers baseline, VersionNumbers canary) {
        LatencyHistogram base = latency(rule, baseline);
        LatencyHistogram mine = latency(rule, canary);
        if (base.total() == 0 && mine.total() == 0) {
            return null;
        }
        double q = rule.metric().quantile();
        long need = Math.max(minSamples, (long) Math.ceil(1 / (1 - q)));
        if (base.total() < need || mine.total() < minSamples) {
            return new Finding(rule, "waiting for samples (baseline " + base.total() + " of " + need + ", canary "
                    + mine.total() + " of " + minSamples + ")");
        }
        double limit = rule.limit() * base.quantile(q);
        return mine.quantile(q) <= limit ? null : new Finding(rule, String.format(Locale.ROOT,
                "canary p%d %.1f ms over %sx the baseline's %.1f ms", Math.round(q * 100), mine.quantile(q) / 1000,
                trim(rule.limit()), base.quantile(q) / 1000));
    }

    private static Finding drift(Rollout.Rule rule, VersionNumbers baseline, VersionNumbers canary) {
        if (baseline.outputMeasured < DRIFT_SAMPLES || canary.outputMeasured < DRIFT_SAMPLES) {
            return null;
        }
        double ratio = canary.meanOutput() / baseline.meanOutput();
        return Math.abs(ratio - 1) <= rule.limit() ? null : new Finding(rule, String.format(Locale.ROOT,
                "canary's mean output %.1f tokens is %+.1f%% of the baseline's %.1f (allowed: %.0f%% either way)",
                canary.meanOutput(), 100 * (ratio - 1), baseline.meanOutput(), 100 * rule.limit()));
    }

    private static LatencyHistogram latency(Rollout.Rule rule, VersionNumbers numbers) {
        return rule.metric() == Rollout.Metric.TTFT_P50 || rule.metric() == Rollout.Metric.TTFT_P99 ? numbers.ttft : numbers.tpot;
    }

    /**
     * How long a canary request may go without a first byte before it is known to fail every
     * time-to-first-token rule that can judge yet: the largest of their limits over the {@code baseline}
     * numbers, rounded down to a whole microsecond of its bucket's upper bound, so that a sample one
     * microsecond past it lies in a bucket wholly above each limit ({@link LatencyHistogram#countAbove}).
     * 0 when no such rule can judge (none, or too few baseline samples for its quantile).
     */
    static long lateThresholdMicros(Rollout.Analysis analysis, VersionNumbers baseline) {
        double largest = 0;
        for (Rollout.Rule rule : analysis.rules()) {
            if (rule.metric() != Rollout.Metric.TTFT_P50 && rule.metric() != Rollout.Metric.TTFT_P99) {
                continue;
            }
            double q = rule.metric().quantile();
            if (baseline.ttft.total() < Math.max(analysis.minSamples(), Math.ceil(1 / (1 - q)))) {
                return 0; // a rule that cannot judge yet would miss what a late request tells it
            }
            largest = Math.max(largest, rule.limit() * baseline.ttft.quantile(q));
        }
        return largest == 0 ? 0 : (long) Math.floor(LatencyBuckets.upperMicros(LatencyBuckets.index((long) Math.ceil(largest))));
    }

    /**
     * {@code ln P(X >= k)} bounded above by Chernoff: {@code -n KL(k/n || p)} for {@code k/n > p}
     * ({@code 0} otherwise), where KL is the Kullback-Leibler divergence of two Bernoulli laws.
     */
    static double logUpperTail(long k, long n, double p) {
        if (n == 0 || k <= p * n) {
            return 0;
        }
        double a = (double) k / n;
        if (p <= 0) {
            return Double.NEGATIVE_INFINITY;
        }
        double kl = a * Math.log(a / p) + (a < 1 ? (1 - a) * Math.log((1 - a) / (1 - p)) : 0);
        return -n * kl;
    }

    private static String trim(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
    }
}
