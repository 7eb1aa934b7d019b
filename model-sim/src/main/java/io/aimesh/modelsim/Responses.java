package io.aimesh.modelsim;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;

/** Sends complete (fixed-length) responses on an exchange; the caller closes the exchange. */
final class Responses {

    static final String JSON = "application/json";

    private Responses() {}

    /** Sends {@code body}, which must not be empty, with the given status and content type. */
    static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, body.length); // length 0 would mean chunked
        exchange.getResponseBody().write(body);
    }

    static void sendError(HttpExchange exchange, ApiError error) throws IOException {
        send(exchange, error.status(), JSON, error.toJson());
    }
}
