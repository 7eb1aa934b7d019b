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

    String json() {
        return new BodyError(status, message, type, param, code).toJson();
    }
}
