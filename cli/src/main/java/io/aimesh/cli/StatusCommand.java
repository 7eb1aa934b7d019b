package io.aimesh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "One line per node connected to the control plane (Envoys and ai-filters): kind, config scope, the "
                + "version it acknowledged of each type, and SYNCED, STALE (has not acknowledged its scope's current "
                + "config) or NACKED (rejected it; the reason follows). Exit 1 if any node is not SYNCED.")
final class StatusCommand implements Callable<Integer> {
    /** The xDS types as the control plane names them, in the order a change is pushed. */
    private static final List<String> TYPES = List.of("cluster", "endpoint", "listener", "route", "filter");
    /** A version is a digest: its first characters tell two apart, as git's short hashes do. */
    private static final int SHORT = 8;

    @Mixin
    ControlPlaneAdmin admin;

    @Option(names = "--json", description = "Print the admin API's JSON as it is.")
    boolean json;

    @Option(names = "--wait", defaultValue = "0", paramLabel = "SECONDS",
            description = "Wait up to this long for every node to be SYNCED (and at least one to be connected), saying what it"
                    + " waits for each second, as after a policy change or a rollout step (default: ${DEFAULT-VALUE}).")
    int waitSeconds;

    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(Math.max(0, waitSeconds));
        AdminCall call = AdminCall.send(admin.request("/nodes").build(), "aimesh status", admin.describe(), err);
        while (waitSeconds > 0 && System.nanoTime() < deadline && (call.exit() != 0 || !waited(call.body()))) {
            err.println("aimesh status: waiting for " + (call.exit() != 0 ? "the control plane"
                    : call.body().path("nodes").isEmpty() ? "a node to connect" : String.join(", ", unsynced(call.body()))));
            Thread.sleep(1_000); // a person's command polling the control plane, once a second
            call = AdminCall.send(admin.request("/nodes").build(), "aimesh status", admin.describe(), err);
        }
        if (call.exit() != 0) {
            return call.exit();
        }
        JsonNode body = call.body();
        if (json) {
            out.println(body.toPrettyString());
        } else {
            print(body);
        }
        return unsynced(body).isEmpty() && (waitSeconds == 0 || waited(body)) ? 0 : 1;
    }

    /** Every node is SYNCED, and there is one: what {@code --wait} waits for. */
    private static boolean waited(JsonNode body) {
        return !body.path("nodes").isEmpty() && unsynced(body).isEmpty();
    }

    /** The nodes not SYNCED, as {@code id (STATE)}. */
    private static List<String> unsynced(JsonNode body) {
        List<String> unsynced = new ArrayList<>();
        for (JsonNode node : body.path("nodes")) {
            if (!node.path("sync").asText().equals("SYNCED")) {
                unsynced.add(node.path("id").asText() + " (" + node.path("sync").asText() + ")");
            }
        }
        return unsynced;
    }

    private void print(JsonNode body) {
        JsonNode policy = body.path("policy");
        out.println("policies: " + policy.path("status").asText() + ", serving " + policy.path("servingVersion").asText("none")
                + (policy.path("lastRejected").isTextual() ? " (last rejected " + policy.path("lastRejected").asText() + ")" : ""));
        List<List<String>> rows = new ArrayList<>();
        List<String> header = new ArrayList<>(List.of("NODE", "KIND", "SCOPE"));
        TYPES.forEach(type -> header.add(type.toUpperCase(Locale.ROOT)));
        header.add("STATUS");
        rows.add(header);
        Map<String, Integer> counts = new TreeMap<>();
        List<String> nacks = new ArrayList<>();
        for (JsonNode node : body.path("nodes")) {
            List<String> row = new ArrayList<>(List.of(node.path("id").asText(), node.path("kind").asText(),
                    node.path("scope").asText().isEmpty() ? "default" : node.path("scope").asText()));
            for (String type : TYPES) {
                row.add(version(node.path("acked").path(type), node.path("expected").path(type)));
            }
            String sync = node.path("sync").asText();
            row.add(sync);
            rows.add(row);
            counts.merge(sync, 1, Integer::sum);
            JsonNode nack = node.path("lastNack");
            if (nack.isObject() && sync.equals("NACKED")) {
                nacks.add(node.path("id").asText() + " rejected " + nack.path("type").asText() + " "
                        + shorten(nack.path("version").asText()) + " at " + nack.path("at").asText() + ": "
                        + nack.path("error").asText());
            }
        }
        if (rows.size() == 1) {
            out.println("no nodes connected");
            return;
        }
        int[] widths = new int[header.size()];
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                line.append(i == row.size() - 1 ? row.get(i) : String.format(Locale.ROOT, "%-" + (widths[i] + 2) + "s", row.get(i)));
            }
            out.println(line.toString().stripTrailing());
        }
        nacks.forEach(out::println);
        StringBuilder summary = new StringBuilder().append(rows.size() - 1).append(rows.size() == 2 ? " node:" : " nodes:");
        counts.forEach((sync, count) -> summary.append(' ').append(count).append(' ').append(sync).append(','));
        out.println(summary.substring(0, summary.length() - 1));
    }

    /** The acknowledged version, short; with the one it should have after an arrow when they differ; "-" when the node has none. */
    private static String version(JsonNode acked, JsonNode expected) {
        if (!acked.isTextual()) {
            return "-";
        }
        String held = shorten(acked.asText());
        return expected.isTextual() && !expected.asText().equals(acked.asText()) ? held + "->" + shorten(expected.asText()) : held;
    }

    private static String shorten(String version) {
        return version.length() <= SHORT ? version : version.substring(0, SHORT);
    }
}
