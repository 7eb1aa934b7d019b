package io.aimesh.filter.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.filter.api.WireContract;
import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.testing.Mesh;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every internal header ({@link WireContract#INTERNAL_HEADERS}), in every spelling Envoy accepts
 * on HTTP/1.1 (any letter case, underscores for dashes, a mix, the header twice), sent by a client
 * in both failure modes, with the filter up and down: none of them may change where the request
 * goes or reach a model server. Requests go over a raw socket so that no client library
 * normalizes the names first.
 *
 * <p>The upstreams are model-sims, which say who served and what headers they got: a shared pool,
 * a pool dedicated to another tenant, a picker pool, and a "rogue" server in no pool at all, which
 * a forged picked-endpoint header would aim at. A header "takes effect" when the request is served
 * by another server than its route's (the dedicated one, another model's, the rogue one),
 * or when any upstream receives an internal header carrying the client's value.
 */
class InternalHeaderSpellingIT {
    private static final String REC_MODEL = "rec-model";
    private static final String PICK_MODEL = "pick-model";
    private static final String SPOOFED = "spoofed";

    private final List<AutoCloseable> running = new ArrayList<>();
    private Mesh mesh;
    private ModelSimServer shared;
    private ModelSimServer dedicated;
    private ModelSimServer picked;
    /** Serves the picked model but is in no pool: nothing may reach it. */
    private ModelSimServer rogue;

    @AfterEach
    void stop() throws Exception {
        if (mesh != null) {
            mesh.close();
        }
        for (AutoCloseable closeable : running) {
            closeable.close();
        }
    }

    @Test
    void failClosed_noSpellingOfAnInternalHeaderTakesEffect_filterUpOrDown() throws Exception {
        start("closed");
        List<String> violations = new ArrayList<>(attack("closed, filter up"));
        mesh.stopFilter();
        violations.addAll(attack("closed, filter down"));
        assertThat(violations).isEmpty();
    }

    @Test
    void failOpen_noSpellingOfAnInternalHeaderTakesEffect_filterUpOrDown() throws Exception {
        start("open");
        List<String> violations = new ArrayList<>(attack("open, filter up"));
        mesh.stopFilter();
        violations.addAll(attack("open, filter down"));
        assertThat(violations).isEmpty();
    }

    private void start(String failureMode) throws IOException {
        shared = sim(REC_MODEL, "shared");
        dedicated = sim(REC_MODEL, "dedicated");
        picked = sim(PICK_MODEL, "picked");
        rogue = sim(PICK_MODEL, "rogue");
        String policies = """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: rec-shared}
                spec:
                  endpoints: ["127.0.0.1:%d"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: rec-dedicated}
                spec:
                  endpoints: ["127.0.0.1:%d"]
                  dedicatedTo: {tenants: [globex]}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: rec}
                spec:
                  model: %s
                  versions: [{name: shared, pool: rec-shared, weight: 1}, {name: reserved, pool: rec-dedicated, weight: 0}]
                  tokenizer: approximate
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: pick-pool}
                spec:
                  endpoints: ["127.0.0.1:%d"]
                  balancing: {mode: picker, metricsInterval: 50ms}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: pick}
                spec:
                  model: %s
                  versions: [{name: v1, pool: pick-pool, weight: 1}]
                  tokenizer: approximate
                """.formatted(shared.port(), dedicated.port(), REC_MODEL, picked.port(), PICK_MODEL);
        mesh = Mesh.builder().filter(failureMode).defaultMaxTokens(64).extraPolicies(policies).start();
        await().atMost(Duration.ofSeconds(30)).until(() -> send(REC_MODEL, "").status() == 200
                && send(PICK_MODEL, "").status() == 200);
    }

    /** Sends every header in every spelling; returns what took effect, one line each. */
    private List<String> attack(String state) throws IOException {
        List<String> violations = new ArrayList<>();
        String rogueAddress = "127.0.0.1:" + rogue.port();
        for (String header : WireContract.INTERNAL_HEADERS) {
            for (String spelling : spellings(header)) {
                String value = switch (header) {
                    case WireContract.MODEL_HEADER -> Mesh.MODEL;
                    case WireContract.POOL_HEADER -> "rec-dedicated";
                    case WireContract.TENANT_HEADER -> "globex";
                    case WireContract.DESTINATION_HEADER -> rogueAddress;
                    default -> SPOOFED;
                };
                String model = header.equals(WireContract.DESTINATION_HEADER) ? PICK_MODEL : REC_MODEL;
                check(violations, state, spelling + ": " + value, model, List.of(List.of(spelling, value)));
                check(violations, state, spelling + " twice", model,
                        List.of(List.of(spelling, value), List.of(spelling, value)));
            }
        }
        // All at once, as a client that knows the route table would: model and pool headers make
        // Envoy's own pool routes match, the destination aims the picked cluster.
        for (int style = 0; style < spellings(WireContract.POOL_HEADER).size(); style++) {
            int s = style;
            List<List<String>> all = List.of(
                    List.of(spellings(WireContract.MODEL_HEADER).get(s), PICK_MODEL),
                    List.of(spellings(WireContract.POOL_HEADER).get(s), "pick-pool"),
                    List.of(spellings(WireContract.DESTINATION_HEADER).get(s), rogueAddress),
                    List.of(spellings(WireContract.TENANT_HEADER).get(s), "globex"));
            check(violations, state, "combined " + all, PICK_MODEL, all);
            List<List<String>> dedicatedAttack = List.of(
                    List.of(spellings(WireContract.MODEL_HEADER).get(s), REC_MODEL),
                    List.of(spellings(WireContract.POOL_HEADER).get(s), "rec-dedicated"));
            check(violations, state, "combined " + dedicatedAttack, REC_MODEL, dedicatedAttack);
        }
        return violations;
    }

    private void check(List<String> violations, String state, String what, String model,
                       List<List<String>> headers) throws IOException {
        StringBuilder raw = new StringBuilder();
        for (List<String> header : headers) {
            raw.append(header.get(0)).append(": ").append(header.get(1)).append("\r\n");
        }
        Answer answer = send(model, raw.toString());
        String where = state + " | " + what + " -> " + answer.status();
        String servedBy = answer.headers().get("x-model-sim-instance");
        String expected = model.equals(REC_MODEL) ? shared.instanceName() : picked.instanceName();
        if (servedBy != null && !servedBy.equals(expected)) {
            violations.add(where + ": served by " + servedBy + ", not " + expected);
        }
        if (!rogue.lastRequestHeaders().isEmpty()) {
            violations.add(where + ": the rogue address was reached");
        }
        ModelSimServer server = servedBy == null ? null
                : servedBy.equals(shared.instanceName()) ? shared : servedBy.equals(picked.instanceName()) ? picked : null;
        if (answer.status() != 200 || server == null) {
            return;
        }
        Map<String, String> filterSets = Map.of(WireContract.MODEL_HEADER, model,
                WireContract.POOL_HEADER, server == shared ? "rec-shared" : "pick-pool");
        for (Map.Entry<String, List<String>> header : server.lastRequestHeaders().entrySet()) {
            String name = normalized(header.getKey());
            for (List<String> sent : headers) {
                // The filter itself sets the model and pool headers to the body's model and the pool
                // that serves it: a client's copy with those same values proves nothing.
                String ownValue = filterSets.get(normalized(sent.get(0)));
                boolean filterValue = ownValue != null && ownValue.equals(sent.get(1));
                if (!filterValue && name.equals(normalized(sent.get(0))) && header.getValue().contains(sent.get(1))) {
                    violations.add(where + ": " + servedBy + " received " + header.getKey() + ": " + sent.get(1));
                }
            }
        }
    }

    /** The name a backend that maps underscores to dashes (CGI, WSGI) would see. */
    private static String normalized(String name) {
        return name.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static List<String> spellings(String header) {
        String title = capitalize(header);
        return List.of(header, header.toUpperCase(Locale.ROOT), title, header.replace('-', '_'),
                header.toUpperCase(Locale.ROOT).replace('-', '_'), title.replace('-', '_'),
                header.replaceFirst("-(?=[^-]*$)", "_"), header.replaceFirst("-", "_"));
    }

    private static String capitalize(String header) {
        StringBuilder out = new StringBuilder();
        boolean start = true;
        for (char c : header.toCharArray()) {
            out.append(start ? Character.toUpperCase(c) : c);
            start = c == '-';
        }
        return out.toString();
    }

    /** A raw HTTP/1.1 POST of a chat completion as tenant acme, with {@code rawHeaders} as written. */
    private Answer send(String model, String rawHeaders) throws IOException {
        String body = "{\"model\":\"" + model + "\",\"max_tokens\":4,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}";
        StringBuilder request = new StringBuilder()
                .append("POST /v1/chat/completions HTTP/1.1\r\n")
                .append("host: 127.0.0.1:").append(mesh.listenerPort()).append("\r\n")
                .append("authorization: Bearer ").append(Mesh.ACME_KEY).append("\r\n")
                .append("content-type: application/json\r\n")
                .append("connection: close\r\n");
        request.append(rawHeaders)
                .append("content-length: ").append(body.getBytes(StandardCharsets.UTF_8).length).append("\r\n\r\n")
                .append(body);
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", mesh.listenerPort()), 2000);
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            return Answer.parse(socket.getInputStream());
        }
    }

    private ModelSimServer sim(String model, String name) throws IOException {
        ModelSimServer sim = ModelSimServer.start(ModelSimConfig.builder().port(0).model(model).version("v1")
                .instanceName(name).speed(20).maxSeqs(64).kvTokens(1 << 20).seed(7).build());
        running.add(sim);
        return sim;
    }

    /** A status line and headers (names lowercased) of an HTTP/1.1 answer read to the end. */
    private record Answer(int status, Map<String, String> headers) {
        static Answer parse(InputStream in) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            in.transferTo(bytes);
            String text = bytes.toString(StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            String[] lines = (end < 0 ? text : text.substring(0, end)).split("\r\n");
            if (lines.length == 0 || !lines[0].startsWith("HTTP/1.1 ")) {
                return new Answer(-1, Map.of());
            }
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
                }
            }
            return new Answer(Integer.parseInt(lines[0].substring(9, 12)), headers);
        }
    }
}
