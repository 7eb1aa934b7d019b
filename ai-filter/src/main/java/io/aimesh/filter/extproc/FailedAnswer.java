package io.aimesh.filter.extproc;

import com.google.protobuf.ByteString;

/**
 * What an answer is charged, in this order of evidence (the bound the trust model asks for: what
 * a failed answer generated is still charged):
 *
 * <ol>
 *   <li>{@link #USAGE}: the answer reports usage (JSON {@code usage} or the SSE usage event),
 *       whatever its status.</li>
 *   <li>{@link #STREAMED}: a stream that ended early, was cut or failed: the input estimate plus
 *       the content deltas counted so far.</li>
 *   <li>{@link #INPUT}: a 4xx without usage: a model server (or Envoy) refused the request, so
 *       nothing was generated; the prompt estimate is charged, as the server read it.</li>
 *   <li>{@link #NOTHING}: Envoy's own 503 for a request that never reached a model server
 *       (connection failure, no healthy upstream, circuit-breaker overflow): the reservation is
 *       released. Recognised by Envoy's standard local-reply text, since the filter gets only
 *       {@code response.code}; {@code response.flags} would make it exact.</li>
 *   <li>{@link #RESERVATION}: anything else without usage, a 5xx after the request was sent (a
 *       504 upstream timeout, a reset) above all: the model may have generated up to the
 *       reservation, so the whole reservation stays charged. A 2xx without usage or deltas too.</li>
 * </ol>
 */
enum FailedAnswer {
    USAGE,
    STREAMED,
    INPUT,
    NOTHING,
    RESERVATION;

    /** How many leading bytes of a failed answer's body are kept to recognise Envoy's local replies. */
    static final int HEAD_BYTES = 256;

    /**
     * @param status the response status; 200 when Envoy sent none
     * @param usage whether the answer reported usage
     * @param streamedTokens content deltas counted in the answer's stream
     * @param head the first {@link #HEAD_BYTES} of a non-2xx answer's body, else empty
     */
    static FailedAnswer of(int status, boolean usage, long streamedTokens, ByteString head) {
        if (usage) {
            return USAGE;
        }
        if (streamedTokens > 0) {
            return STREAMED;
        }
        if (status >= 400 && status < 500) {
            return INPUT;
        }
        if (status == 503 && neverSent(head.toStringUtf8())) {
            return NOTHING;
        }
        return RESERVATION;
    }

    /**
     * Whether a 503 body is Envoy's local reply for a request no upstream connection carried: no
     * healthy upstream (UH), or a connect that failed (UF, "connection failure", also "remote
     * connection failure" with its transport reason) or overflowed (UO). A reset on a connection
     * that was made ("connection termination", UC) may follow a sent request, so it does not count.
     */
    private static boolean neverSent(String body) {
        if (body.startsWith("no healthy upstream")) {
            return true;
        }
        return body.startsWith("upstream connect error or disconnect/reset before headers.")
                && (body.contains("reset reason: connection failure") || body.contains("reset reason: remote connection failure")
                        || body.contains("reset reason: local connection failure") || body.contains("reset reason: overflow"));
    }
}
