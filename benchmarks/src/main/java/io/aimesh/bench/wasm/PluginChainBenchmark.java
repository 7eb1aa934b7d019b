package io.aimesh.bench.wasm;

import io.aimesh.bench.AbstractMicrobenchmark;
import io.aimesh.filter.wasm.WasmPlugin;
import io.aimesh.testing.GoTool;
import io.aimesh.testing.RustWasmExample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What a chain of three proxy-wasm plugins costs a whole exchange in the ai-filter, request and
 * response, as the filter runs them: the Go guard (tags the request, rewrites a word in its body,
 * tags the response and rewrites a word in the response body, held whole), then the Rust SDK's
 * {@code http_config} (a response header) and {@code http_body} (holds the response whole and
 * looks for "secret"). Request phases in order, response phases last plugin first; the response
 * body ({@code bodyBytes}, as the request's) comes in 4 chunks.
 *
 * <pre>
 * mvn -B -o -q -pl benchmarks -am package -DskipTests
 * java -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*' \
 *     org.openjdk.jmh.Main PluginChainBenchmark -f 1 -wi 3 -i 5 -r 1s -w 1s -bm avgt -tu us
 * </pre>
 */
@State(Scope.Thread)
public class PluginChainBenchmark extends AbstractMicrobenchmark {
    private static final int CHUNKS = 4;

    @Param({"COMPILER", "INTERPRETER"})
    public String engine;

    @Param({"1024", "16384"})
    public int bodyBytes;

    private final List<WasmPlugin> chain = new ArrayList<>();
    private List<Map.Entry<String, String>> headers;
    private List<Map.Entry<String, String>> responseHeaders;
    private byte[] body;
    private byte[][] chunks;

    @Setup
    public void load() throws Exception {
        WasmPlugin.Engine chosen = WasmPlugin.Engine.valueOf(engine);
        Path guard = GoTool.WASM_GUARD.locate().orElseThrow(() -> new IllegalStateException(GoTool.WASM_GUARD.skipMessage()));
        chain.add(WasmPlugin.load("guard", Files.readAllBytes(guard), "tag=t1;word=secret;respword=llama", chosen));
        for (RustWasmExample example : List.of(RustWasmExample.HTTP_CONFIG, RustWasmExample.HTTP_BODY)) {
            Path wasm = example.locate().orElseThrow(() -> new IllegalStateException(example.skipMessage()));
            chain.add(WasmPlugin.load(example.name(), Files.readAllBytes(wasm), "bench", chosen));
        }
        body = PluginBenchmark.chatBody(bodyBytes);
        headers = PluginBenchmark.headers(body.length);
        responseHeaders = List.of(Map.entry(":status", "200"), Map.entry("content-type", "application/json"),
                Map.entry("content-length", Integer.toString(body.length)));
        chunks = new byte[CHUNKS][];
        int step = (body.length + CHUNKS - 1) / CHUNKS;
        for (int i = 0; i < CHUNKS; i++) {
            chunks[i] = Arrays.copyOfRange(body, Math.min(body.length, i * step), Math.min(body.length, (i + 1) * step));
        }
    }

    /** @return what reached the model server and the client, in bytes */
    @Benchmark
    public int exchange() {
        List<WasmPlugin.Stream> open = new ArrayList<>(chain.size());
        try {
            byte[] request = body;
            List<Map.Entry<String, String>> now = headers;
            for (WasmPlugin plugin : chain) {
                WasmPlugin.Stream stream = plugin.open(now);
                open.add(stream);
                WasmPlugin.RequestResult result = stream.request(request, true, true);
                now = result.headers();
                request = result.body();
            }
            List<Map.Entry<String, String>> response = responseHeaders;
            for (int i = open.size() - 1; i >= 0; i--) {
                response = open.get(i).responseHeaders(response, false).headers();
            }
            int sent = 0;
            for (int c = 0; c < CHUNKS; c++) {
                byte[] chunk = chunks[c];
                for (int i = open.size() - 1; i >= 0; i--) {
                    chunk = open.get(i).responseBody(chunk, c == CHUNKS - 1);
                }
                sent += chunk.length;
            }
            return sent + request.length;
        } finally {
            open.forEach(WasmPlugin.Stream::close);
        }
    }

    @TearDown
    public void close() {
        chain.forEach(WasmPlugin::close);
        chain.clear();
    }
}
