package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How Envoy uses the ai-filter.
 *
 * @param address the filter's ext_proc gRPC address
 * @param failOpen whether requests pass (unlimited) when the filter is unreachable, rather than fail
 * @param messageTimeout how long Envoy waits for each filter answer, {@code > 0}
 * @param maxRequestBytes the largest request body accepted, {@code > 0}
 * @param cutOverrunningStreams whether a stream past its budget is ended at the limit rather than let finish
 */
public record FilterSettings(Endpoint address, boolean failOpen, Duration messageTimeout, long maxRequestBytes,
                             boolean cutOverrunningStreams) {
    public FilterSettings {
        requireNonNull(address, "address");
        requireNonNull(messageTimeout, "messageTimeout");
        if (messageTimeout.isZero() || messageTimeout.isNegative()) {
            throw new IllegalArgumentException("messageTimeout: " + messageTimeout + " (expected: > 0)");
        }
        if (maxRequestBytes <= 0) {
            throw new IllegalArgumentException("maxRequestBytes: " + maxRequestBytes + " (expected: > 0)");
        }
    }
}
