package io.aimesh.filter.body;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * A request the filter answers itself, in OpenAI's error format, instead of forwarding it.
 *
 * @param status the HTTP status, 400 to 599 (the parser uses 400, 413 and 415)
 * @param message what is wrong and where, e.g. {@code max_tokens: expected an integer, got a string};
 *     several problems are joined with {@code "; "}
 * @param type OpenAI's error type, e.g. {@code invalid_request_error}
 * @param param the field at fault as a path ({@code messages[2].content}), or {@code null} for the body
 *     as a whole
 * @param code OpenAI's error code, or {@code null}; the parser never sets one ({@code model_not_found}
 *     is decided by routing)
 */
public record BodyError(int status, String message, String type, String param, String code)
        implements BodyParseResult {

    /** The error type of every problem found in a request. */
    public static final String INVALID_REQUEST = "invalid_request_error";

    public BodyError {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("status: " + status + " (expected: 400 to 599)");
        }
        requireNonNull(message, "message");
        requireNonNull(type, "type");
    }

    static BodyError invalid(int status, String param, String message) {
        return new BodyError(status, message, INVALID_REQUEST, param, null);
    }

    /** Renders {@code {"error":{"message":...,"type":...,"param":...,"code":...}}}, escaped as JSON requires. */
    public String toJson() {
        StringBuilder json = new StringBuilder(64 + message.length());
        json.append("{\"error\":{\"message\":");
        quote(json, message);
        json.append(",\"type\":");
        quote(json, type);
        json.append(",\"param\":");
        quote(json, param);
        json.append(",\"code\":");
        quote(json, code);
        return json.append("}}").toString();
    }

    private static void quote(StringBuilder json, String value) {
        if (value == null) {
            json.append("null");
            return;
        }
        json.append('"');
        JsonStringEncoder.getInstance().quoteAsString(value, json);
        json.append('"');
    }
}
