package io.aimesh.modelsim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A test client for one {@link ModelSimServer}, on a real socket. */
final class SimClient {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(TIMEOUT).build();
    private final String base;

    SimClient(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    HttpResponse<String> get(String path) {
        return send("GET", path, BodyPublishers.noBody());
    }

    HttpResponse<String> post(String path, String json) {
        return send("POST", path, BodyPublishers.ofString(json));
    }

    HttpResponse<String> send(String method, String path, BodyPublisher body) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT)
                .header("Content-Type", "application/json").method(method, body).build();
        try {
            return http.send(request, BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(String text) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The payloads of a server-sent event stream, {@code [DONE]} included, in order. */
    static List<String> events(String stream) {
        List<String> events = new ArrayList<>();
        for (String event : stream.split("\n\n")) {
            if (!event.isEmpty()) {
                if (!event.startsWith("data: ")) {
                    throw new AssertionError("not an SSE data event: " + event);
                }
                events.add(event.substring("data: ".length()));
            }
        }
        return events;
    }
}
