package io.aimesh.modelsim;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.stream.Collectors;

/**
 * An OpenAI-style error response: HTTP status plus the body
 * {@code {"error":{"message":...,"type":...,"param":...,"code":...}}}.
 *
 * @param status HTTP status, 400..599
 * @param type {@code invalid_request_error} for client errors, {@code server_error} otherwise
 * @param message says what is wrong and where, non-null
 * @param param the offending request field, or {@code null}
 * @param code machine-readable code such as {@code model_not_found}, or {@code null}
 */
record ApiError(int status, String type, String message, String param, String code) {

    static final String INVALID_REQUEST = "invalid_request_error";
    static final String SERVER_ERROR = "server_error";

    ApiError {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("status: " + status + " (expected: 400..599)");
        }
        if (type == null || message == null) {
            throw new NullPointerException(type == null ? "type" : "message");
        }
    }

    /** 400 listing every problem found in a request, the first one's field as {@code param}. */
    static ApiError invalidRequest(List<CompletionRequestParser.Problem> problems) {
        String message = problems.stream().map(CompletionRequestParser.Problem::message)
                .collect(Collectors.joining("; "));
        return new ApiError(400, INVALID_REQUEST, message, problems.get(0).param(), null);
    }

    static ApiError contextLengthExceeded(String message, String param) {
        return new ApiError(400, INVALID_REQUEST, message, param, "context_length_exceeded");
    }

    static ApiError modelNotFound(String model) {
        return new ApiError(404, INVALID_REQUEST, "The model `" + model + "` does not exist.", "model",
                "model_not_found");
    }

    static ApiError bodyTooLarge(String size, int limit) {
        return new ApiError(413, INVALID_REQUEST,
                "request body: " + size + " (expected: <= " + limit + " bytes)", null, null);
    }

    static ApiError notFound(String path) {
        return new ApiError(404, INVALID_REQUEST, "path " + path + ": not found", null, "not_found");
    }

    static ApiError methodNotAllowed(String method, String path, String allowed) {
        return new ApiError(405, INVALID_REQUEST,
                "method " + method + " on " + path + ": not allowed (expected: " + allowed + ")", null, null);
    }

    static ApiError injectedFailure() {
        return new ApiError(500, SERVER_ERROR, "simulated inference failure (--fail-rate)", null, null);
    }

    static ApiError internal() {
        return new ApiError(500, SERVER_ERROR, "internal error in model-sim; see its log", null, null);
    }

    static ApiError shuttingDown() {
        return new ApiError(503, SERVER_ERROR, "model-sim is shutting down", null, null);
    }

    byte[] toJson() {
        ObjectNode root = Json.MAPPER.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return Json.bytes(root);
    }
}
