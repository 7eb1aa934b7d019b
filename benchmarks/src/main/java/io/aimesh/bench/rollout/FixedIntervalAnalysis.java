package io.aimesh.bench.rollout;

import java.util.ArrayList;
import java.util.List;

/**
 * The analysis Flagger and Argo Rollouts run by default, simulated on a {@link RequestStream}: a
 * check every {@code interval}, each reading the canary's success rate (and, where the tool's
 * default metrics have it, its p99 latency) over the {@code window} before it, as their
 * Prometheus queries do ({@code rate(...[window])}); rollback when {@code failuresToRollback}
 * checks have failed. The check times have a random phase against the fault's onset.
 *
 * @param name how the table names it
 * @param minSuccessRate a check fails below this canary success rate, e.g. 0.99
 * @param maxP99Seconds a check fails above this canary p99 latency; {@link Double#POSITIVE_INFINITY} when the default has no latency metric
 * @param failuresToRollback failed checks that roll back (Flagger's threshold; Argo's failureLimit + 1)
 */
record FixedIntervalAnalysis(String name, double intervalSeconds, double windowSeconds, double minSuccessRate,
                             double maxP99Seconds, int failuresToRollback) {

    /** When this analysis rolls back, or {@link Double#POSITIVE_INFINITY} when it does not within the stream. */
    double rollbackTime(List<RequestStream.Request> requests, double phase, double duration) {
        int failed = 0;
        for (double check = phase; check < duration; check += intervalSeconds) {
            List<RequestStream.Request> window = new ArrayList<>();
            for (RequestStream.Request request : requests) {
                if (request.canary() && request.end() <= check && request.end() > check - windowSeconds) {
                    window.add(request);
                }
            }
            if (window.isEmpty()) {
                continue; // no data: Flagger and Argo count it as neither pass nor failure by default
            }
            long ok = window.stream().filter(r -> !r.failed()).count();
            double[] latencies = window.stream().mapToDouble(RequestStream.Request::latency).sorted().toArray();
            double p99 = latencies[(int) Math.ceil(0.99 * latencies.length) - 1];
            if ((double) ok / window.size() < minSuccessRate || p99 > maxP99Seconds) {
                failed++;
                if (failed >= failuresToRollback) {
                    return check;
                }
            }
        }
        return Double.POSITIVE_INFINITY;
    }
}
