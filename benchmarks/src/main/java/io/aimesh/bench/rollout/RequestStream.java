package io.aimesh.bench.rollout;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One simulated request stream to a model under rollout: Poisson arrivals, each to the canary with
 * the step's weight until the rollback takes effect, latencies log-normal, and the canary's fault
 * from {@code turnsBadAt} on. Fixed seed per run, so every analysis judges the same requests.
 */
final class RequestStream {
    /** How a canary turns bad. */
    record Fault(String name, double failRate, long extraLatencyMillis) {
    }

    /** One request: when it arrived and ended (seconds), whether the canary served it, whether badly. */
    record Request(double arrival, double end, boolean canary, boolean failed, double latency) {
        boolean bad(Fault fault, double turnsBadAt) {
            return canary && arrival >= turnsBadAt && (failed || fault.extraLatencyMillis() > 0);
        }
    }

    static final double MEDIAN_LATENCY_SECONDS = 0.2;
    static final double LATENCY_SIGMA = 0.3;
    static final double FAILURE_LATENCY_SECONDS = 0.02;

    private RequestStream() {
    }

    /**
     * Requests arriving in {@code [0, duration)} at {@code rate} per second; the canary gets
     * {@code weight} of those arriving before {@code rollbackAt} (none after).
     */
    static List<Request> generate(long seed, double rate, double weight, double duration, Fault fault, double turnsBadAt,
                                  double rollbackAt) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Request> requests = new ArrayList<>();
        double t = 0;
        while (true) {
            t += -Math.log(1 - random.nextDouble()) / rate;
            if (t >= duration) {
                return requests;
            }
            double draw = random.nextDouble();
            double failDraw = random.nextDouble();
            double latency = MEDIAN_LATENCY_SECONDS * Math.exp(LATENCY_SIGMA * random.nextGaussian());
            boolean canary = t < rollbackAt && draw < weight;
            boolean bad = canary && t >= turnsBadAt;
            boolean failed = bad && failDraw < fault.failRate();
            if (bad) {
                latency += fault.extraLatencyMillis() / 1000.0;
            }
            if (failed) {
                latency = FAILURE_LATENCY_SECONDS;
            }
            requests.add(new Request(t, t + latency, canary, failed, latency));
        }
    }
}
