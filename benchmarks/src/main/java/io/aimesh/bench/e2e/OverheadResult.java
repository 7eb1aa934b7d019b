package io.aimesh.bench.e2e;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A whole run of the {@link FilterOverheadBenchmark}.
 *
 * @param options what was run
 * @param date when it started
 * @param machine CPU count and model, OS, JVM
 * @param javaVersion the output of {@code java -version}, one line
 * @param envoyVersion the output of {@code envoy --version}
 * @param loadBefore {@code /proc/loadavg}'s 1, 5 and 15 minute load averages before the run
 * @param loadAfter the same after it
 * @param points every measured point, in the order measured per body size and rate
 * @param extProcStats the filter path's Envoy's {@code ext_proc} counters at the end, warm-ups included; empty
 *     without that path
 */
record OverheadResult(OverheadOptions options, Instant date, String machine, String javaVersion, String envoyVersion,
                      String loadBefore, String loadAfter, List<PointResult> points, Map<String, Long> extProcStats) {
    OverheadResult {
        points = List.copyOf(points);
        extProcStats = Map.copyOf(extProcStats);
    }

    /** The point of {@code path} at {@code rate} and {@code bodyBytes}, if measured. */
    Optional<PointResult> point(DataPath path, int rate, int bodyBytes) {
        return points.stream().filter(p -> p.path() == path && p.rate() == rate && p.bodyBytes() == bodyBytes).findFirst();
    }
}
