package io.aimesh.bench.wasm;

import io.aimesh.bench.AbstractMicrobenchmark;
import io.aimesh.filter.wasm.WasmPlugin;
import io.aimesh.testing.GoTool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What one proxy-wasm plugin costs a request in the ai-filter: the guard plugin (built from
 * integration-tests/src/test/go/wasm-guard with the proxy-wasm Go SDK, stock Go) run on a chat
 * request's headers and whole body, which it tags and rewrites, with Chicory's interpreter and with
 * the module compiled to JVM bytecode. The body is {@code bodyBytes} long.
 *
 * <pre>
 * mvn -B -o -q -pl benchmarks -am package -DskipTests
 * java -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*' \
 *     org.openjdk.jmh.Main PluginBenchmark -f 1 -wi 3 -i 5 -r 1s -w 1s -bm avgt
 * </pre>
 */
@State(Scope.Thread)
public class PluginBenchmark extends AbstractMicrobenchmark {
    @Param({"COMPILER", "INTERPRETER"})
    public String engine;

    @Param({"1024", "16384"})
    public int bodyBytes;

    private WasmPlugin plugin;
    private List<Map.Entry<String, String>> headers;
    private byte[] body;

    @Setup
    public void load() throws Exception {
        Path wasm = GoTool.WASM_GUARD.locate().orElseThrow(() -> new IllegalStateException(GoTool.WASM_GUARD.skipMessage()));
        plugin = WasmPlugin.load("guard", Files.readAllBytes(wasm), "tag=t1;word=secret", WasmPlugin.Engine.valueOf(engine));
        body = chatBody(bodyBytes);
        headers = headers(body.length);
    }

    /** A chat request of about {@code bytes}, the guard's word in every sentence. */
    static byte[] chatBody(int bytes) {
        StringBuilder content = new StringBuilder();
        while (content.length() < bytes - 100) {
            content.append("the secret of a long prompt is in its words ");
        }
        return ("{\"model\":\"llama\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The headers Envoy hands the filter for such a request. */
    static List<Map.Entry<String, String>> headers(int contentLength) {
        return List.of(Map.entry(":authority", "gateway"), Map.entry(":path", "/v1/chat/completions"), Map.entry(":method", "POST"),
                Map.entry(":scheme", "http"), Map.entry("content-type", "application/json"),
                Map.entry("content-length", Integer.toString(contentLength)), Map.entry("x-request-id", "bench"));
    }

    @Benchmark
    public WasmPlugin.RequestResult request() {
        return plugin.onRequest(headers, body);
    }

    @TearDown
    public void close() {
        plugin.close();
    }
}
