package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

import io.aimesh.filter.api.WireContract;
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
    /**
     * The largest {@code maxRequestBytes} a policy may set, the wire contract's: the ai-filter's gRPC
     * server accepts that plus ext_proc's framing, so a body Envoy accepts always reaches it.
     */
    public static final long MAX_REQUEST_BYTES = WireContract.MAX_REQUEST_BYTES;

    public FilterSettings {
        requireNonNull(address, "address");
        requireNonNull(messageTimeout, "messageTimeout");
        if (messageTimeout.isZero() || messageTimeout.isNegative()) {
            throw new IllegalArgumentException("messageTimeout: " + messageTimeout + " (expected: > 0)");
        }
        if (maxRequestBytes <= 0 || maxRequestBytes > MAX_REQUEST_BYTES) {
            throw new IllegalArgumentException("maxRequestBytes: " + maxRequestBytes + " (expected: 1.." + MAX_REQUEST_BYTES + ")");
        }
    }
}
