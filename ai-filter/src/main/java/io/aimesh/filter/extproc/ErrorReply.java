package io.aimesh.filter.extproc;

import io.aimesh.filter.body.BodyError;

/**
 * An OpenAI-style error the filter answers with instead of forwarding the request.
 *
 * @param status the HTTP status
 * @param type OpenAI's error type, e.g. {@code invalid_request_error}, {@code tokens}
 * @param code OpenAI's error code, e.g. {@code rate_limit_exceeded}, or {@code null}
 * @param param the request field at fault, or {@code null}
 * @param decision the {@code x-aimesh-decision} value that explains it
 */
record ErrorReply(int status, String message, String type, String code, String param, String decision) {

    /**
     * 429 for a request whose reservation exceeds what its budget can ever hold (limit plus
     * burst): OpenAI's "Request too large" ({@code type: tokens}, {@code code: rate_limit_exceeded}),
     * answered without {@code retry-after}, since no retry can help; the client must ask for less
     * ({@code max_tokens}, {@code n}, {@code best_of}, fewer prompts) or a shorter prompt.
     */
    static ErrorReply requestTooLarge(String tenant, String model, String window, long requestedTokens, String decision) {
        return new ErrorReply(429, "Request too large for tenant '" + tenant + "' on model '" + model + "' per " + window
                + ": it may use up to " + requestedTokens + " tokens (prompt plus max_tokens for each of n or best_of"
                + " choices of each prompt), more than the limit allows. Ask for fewer tokens.",
                "tokens", "rate_limit_exceeded", null, decision);
    }

    String json() {
        return new BodyError(status, message, type, param, code).toJson();
    }
}
