package io.aimesh.picker;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Set;

/**
 * What one scrape of a model server's {@code /metrics} said about its load, as read by
 * {@link VllmMetricsParser}. A value the server did not report (or reported as {@code NaN}) is
 * {@code NaN}, never a guess.
 *
 * @param waiting requests waiting for a batch slot ({@code vllm:num_requests_waiting}), summed over
 *     the server's series; {@code NaN} or a finite {@code >= 0}
 * @param running requests in the running batch ({@code vllm:num_requests_running}), summed over the
 *     server's series; {@code NaN} or a finite {@code >= 0}
 * @param kvCacheUsage the fraction of KV-cache blocks in use, {@code 0} to {@code 1}
 *     ({@code vllm:kv_cache_usage_perc}, else the older {@code vllm:gpu_cache_usage_perc}), the
 *     largest over the server's series; or {@code NaN}
 * @param runningLoras LoRA adapters in the running batch ({@code vllm:lora_requests_info}); empty
 *     when not reported
 * @param waitingLoras LoRA adapters requested by waiting requests; empty when not reported
 * @param maxLoras how many adapters the server can hold at once, {@code 0} when not reported
 * @param problems every problem found in the lines of these metrics, each
 *     {@code "line L, column C: ..."}, at most {@link VllmMetricsParser#MAX_PROBLEMS} and then one
 *     line counting the rest; lines of other metrics are not checked
 */
record VllmMetrics(double waiting, double running, double kvCacheUsage, Set<String> runningLoras,
        Set<String> waitingLoras, int maxLoras, List<String> problems) {

    /** Nothing known: what a server reporting none of these metrics gives. */
    static final VllmMetrics NONE = new VllmMetrics(Double.NaN, Double.NaN, Double.NaN, Set.of(), Set.of(), 0, List.of());

    VllmMetrics {
        EndpointState.checkCount("waiting", waiting);
        EndpointState.checkCount("running", running);
        EndpointState.checkFraction("kvCacheUsage", kvCacheUsage);
        runningLoras = Set.copyOf(requireNonNull(runningLoras, "runningLoras"));
        waitingLoras = Set.copyOf(requireNonNull(waitingLoras, "waitingLoras"));
        if (maxLoras < 0) {
            throw new IllegalArgumentException("maxLoras: " + maxLoras + " (expected: >= 0)");
        }
        problems = List.copyOf(requireNonNull(problems, "problems"));
    }
}
