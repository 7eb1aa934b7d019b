package io.aimesh.bench.routing;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What a routing run measured.
 *
 * @param capacity the fleet's measured capacity, requests per second
 * @param fleet the model-sims' addresses, in the order of {@link RoutingOptions#speeds()}
 */
record RoutingResult(RoutingOptions options, Instant date, double capacity, List<String> fleet, List<Point> points) {
    RoutingResult {
        fleet = List.copyOf(fleet);
        points = List.copyOf(points);
    }

    /**
     * One mode at one offered load.
     *
     * @param cacheHitRate the fleet's prefix-cache hits over lookups, in prompt tokens, during the run
     */
    record Point(String mode, double load, double rate, StreamingLoad.Result run, double cacheHitRate) {
        /** Requests that ended within the measured window, per second. */
        double requestsPerSecond() {
            return run.completedInWindow() / run.seconds();
        }

        /** Output tokens of those, per second. */
        double tokensPerSecond() {
            return run.tokensInWindow() / run.seconds();
        }
    }

    Optional<Point> point(String mode, double load) {
        return points.stream().filter(p -> p.mode().equals(mode) && p.load() == load).findFirst();
    }
}
