package io.aimesh.bench.wasm;

import io.aimesh.bench.ClosedLoop;
import io.aimesh.bench.FilterStack;
import io.aimesh.filter.api.Sha256;
import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.testing.Envoy;
import io.aimesh.testing.GoTool;
import io.aimesh.testing.Ports;
import io.aimesh.testing.WasmEnvoy;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One proxy-wasm plugin on the request path, in Envoy's own wasm filter (V8) and in the ai-filter,
 * in one run: the guard plugin (integration-tests/src/test/go/wasm-guard), which tags each request
 * and rewrites a word in its body, on the same 1 KiB chat request to the same model-sim. Four paths
 * take turns in slices: Envoy alone, Envoy with the plugin, aimesh (Envoy and the ai-filter) without
 * it, and aimesh with it. What each plugin costs is the difference it makes to its own path.
 *
 * <pre>
 * benchmarks/scripts/run-benchmark.sh 1g io.aimesh.bench.wasm.PluginPathBenchmark [--seconds 30] [--report FILE]
 * </pre>
 *
 * <p>Latency is one client's closed loop (no queueing): what a request pays. The model-sim answers
 * as fast as its engine turns (speed 10<sup>9</sup>), so the path is what is measured.
 */
public final class PluginPathBenchmark {
    private static final String MODEL = "llama";
    private static final String CONFIG = "tag=t1;word=secret";
    private static final int SLICES = 3;

    private PluginPathBenchmark() {
    }

    /** One way a request can go: its name in the report, and where it is sent. */
    private record Lane(String name, URI uri, Envoy envoy) {
    }

    public static void main(String[] args) throws Exception {
        int seconds = 30;
        Path report = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--report" -> report = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: PluginPathBenchmark [--seconds N] [--report FILE]");
                    System.exit(2);
                }
            }
        }
        String markdown = run(seconds);
        System.out.print(markdown);
        if (report != null) {
            FilterStack.writeResults(report, markdown);
        }
    }

    static String run(int seconds) throws Exception {
        Path wasm = GoTool.WASM_GUARD.locate().orElseThrow(() -> new IllegalStateException(GoTool.WASM_GUARD.skipMessage()));
        String sha256 = Sha256.hex(Files.readAllBytes(wasm));
        Path dir = Files.createTempDirectory("aimesh-plugin-path-");
        StringBuilder content = new StringBuilder();
        while (content.length() < 900) {
            content.append("the secret of a long prompt is in its words ");
        }
        String body = "{\"model\":\"" + MODEL + "\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";
        List<AutoCloseable> running = new ArrayList<>();
        try (ModelSimServer sim = ModelSimServer.start(ModelSimConfig.builder().model(MODEL).speed(1e9).maxSeqs(256)
                .kvTokens(1 << 22).seed(1).build())) {
            List<Lane> paths = new ArrayList<>();
            for (boolean plugin : List.of(false, true)) {
                Ports.Held port = Ports.hold();
                port.release();
                Envoy envoy = Envoy.start(WasmEnvoy.bootstrap(port.port(), sim.port(), plugin ? wasm : null, CONFIG),
                        dir.resolve("envoy-" + plugin + ".log"), 1, "warning");
                running.add(envoy);
                paths.add(new Lane(plugin ? "Envoy + the plugin (wasm filter, V8)" : "Envoy alone",
                        URI.create("http://127.0.0.1:" + port.port() + "/v1/chat/completions"), envoy));
            }
            for (boolean plugin : List.of(false, true)) {
                String plugins = plugin ? "  plugins: [{name: guard, file: \"" + wasm + "\", sha256: \"sha256:" + sha256
                        + "\", configuration: \"" + CONFIG + "\", timeout: 1s}]\n" : "";
                FilterStack stack = FilterStack.start("plugin-path-" + plugin, dir.resolve("aimesh-" + plugin), filterPort -> """
                        apiVersion: aimesh.io/v1alpha1
                        kind: Gateway
                        metadata: {name: edge}
                        spec:
                          filter: {address: "127.0.0.1:%d", failureMode: closed, messageTimeout: 10s}
                        %s---
                        apiVersion: aimesh.io/v1alpha1
                        kind: InferencePool
                        metadata: {name: sim}
                        spec: {endpoints: ["127.0.0.1:%d"]}
                        ---
                        apiVersion: aimesh.io/v1alpha1
                        kind: ModelRoute
                        metadata: {name: llama}
                        spec:
                          model: %s
                          versions: [{name: v1, pool: sim, weight: 1}]
                          tokenizer: approximate
                        """.formatted(filterPort, plugins, sim.port(), MODEL), true);
                running.add(stack);
                paths.add(new Lane(plugin ? "aimesh + the plugin (ai-filter, Chicory compiled)" : "aimesh (Envoy + ai-filter)",
                        stack.uri("/v1/chat/completions"), stack.envoy()));
            }
            for (Lane path : paths) {
                FilterStack.awaitOk(HttpRequest.newBuilder(path.uri()).header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), path.envoy(), path.name());
                ClosedLoop.run(List.of(path.uri()), null, body, 1, Duration.ofSeconds(2)); // warm-up: JIT, connections
            }
            Duration slice = Duration.ofMillis(seconds * 1_000L / SLICES);
            List<ClosedLoop.Load> loads = new ArrayList<>();
            for (int s = 0; s < SLICES; s++) {
                for (int p = 0; p < paths.size(); p++) {
                    System.err.println("slice " + (s + 1) + ": " + paths.get(p).name());
                    ClosedLoop.Load load = ClosedLoop.run(List.of(paths.get(p).uri()), null, body, 1, slice);
                    if (s == 0) {
                        loads.add(load);
                    } else {
                        loads.set(p, loads.get(p).plus(load));
                    }
                }
            }
            return markdown(paths, loads, seconds);
        } finally {
            for (int i = running.size() - 1; i >= 0; i--) {
                running.get(i).close();
            }
        }
    }


    static String markdown(List<Lane> paths, List<ClosedLoop.Load> loads, int seconds) {
        StringBuilder md = new StringBuilder("## Results of ").append(java.time.LocalDate.now(java.time.ZoneOffset.UTC))
                .append("\n\nOne client, a 1 KiB chat request, ").append(seconds).append(" s per path in ").append(SLICES)
                .append(" slices taking turns.\n\n| path | p50 | p99 | requests | errors |\n|---|---:|---:|---:|---:|\n");
        for (int p = 0; p < paths.size(); p++) {
            ClosedLoop.Load load = loads.get(p);
            md.append(String.format(Locale.ROOT, "| %s | %.3f ms | %.3f ms | %d | %d |%n", paths.get(p).name(), ms(load, 50),
                    ms(load, 99), load.ok(), load.errors()));
        }
        md.append(String.format(Locale.ROOT, "%nWhat the plugin adds: in Envoy %.3f ms at p50 (%.3f ms at p99); in the ai-filter"
                + " %.3f ms at p50 (%.3f ms at p99).%n", ms(loads.get(1), 50) - ms(loads.get(0), 50),
                ms(loads.get(1), 99) - ms(loads.get(0), 99), ms(loads.get(3), 50) - ms(loads.get(2), 50),
                ms(loads.get(3), 99) - ms(loads.get(2), 99)));
        return md.toString();
    }

    private static double ms(ClosedLoop.Load load, double percentile) {
        return load.latency().getValueAtPercentile(percentile) / 1_000.0;
    }
}
