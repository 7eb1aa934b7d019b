package io.aimesh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * One call to an admin API (the control plane's or an ai-filter's) for a command: its JSON answer,
 * or the exit code after telling {@code err} why there is none (3: unreachable; 1: no JSON, or an
 * error status with the API's {@code error}).
 *
 * @param exit 0 when {@code body} is the answer
 * @param body the answer's JSON, or {@code null}
 */
record AdminCall(int exit, JsonNode body) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param prefix how the command's messages start, e.g. {@code aimesh spend}
     * @param api what the API is, e.g. {@code the ai-filter's admin API at http://…}
     */
    static AdminCall send(HttpRequest request, String prefix, String api, PrintStream err) throws InterruptedException {
        HttpResponse<String> response;
        try {
            response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            err.println(prefix + ": cannot reach " + api + " (" + e.getMessage() + ")");
            return new AdminCall(3, null);
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            err.println(prefix + ": the admin API answered " + response.statusCode() + " with no JSON");
            return new AdminCall(1, null);
        }
        if (response.statusCode() != 200) {
            err.println(prefix + ": " + body.path("error").asText(response.body()));
            return new AdminCall(1, null);
        }
        return new AdminCall(0, body);
    }
}
