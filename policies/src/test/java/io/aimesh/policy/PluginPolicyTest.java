package io.aimesh.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.PluginPhase;
import io.aimesh.filter.api.Sha256;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gateway plugins: each module is checked at load (readable, of its digest, a WebAssembly module
 * that exports the proxy-wasm ABI), and every problem points at the plugin's file:line:col.
 */
class PluginPolicyTest {
    /** The smallest WebAssembly module: the magic number and version, no sections, no exports. */
    private static final byte[] EMPTY_MODULE = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    @TempDir
    Path directory;

    private static LoadResult load(String plugins) {
        return load(plugins, Map.of());
    }

    /** The Gateway with {@code plugins}, beside the {@code other} policy files. */
    private static LoadResult load(String plugins, Map<String, String> other) {
        Map<String, String> files = new java.util.HashMap<>(other);
        files.put("gateway.yaml", """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: g}
                spec:
                  filter: {address: "127.0.0.1:9001"}
                  plugins:
                """ + plugins);
        return PolicyLoader.load(files);
    }

    private static String plugin(String name, Path file, String sha256) {
        return "    - {name: " + name + ", file: \"" + file + "\", sha256: \"sha256:" + sha256 + "\", configuration: \"k=v\","
                + " failureMode: open, tenants: [acme]}\n";
    }

    /**
     * A module exporting the two names the check asks for (hand-assembled: a type, two functions, a
     * memory of {@code pages} 64 KiB pages when over 0, two exports, two empty bodies).
     */
    private static byte[] abiModule(int pages) {
        byte[] head = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
            0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
            0x03, 0x03, 0x02, 0x00, 0x00}; // function section: two functions of type 0
        byte[] memory = pages == 0 ? new byte[0] : new byte[] {0x05, 0x04, 0x01, 0x00, (byte) (0x80 | pages & 0x7f), (byte) (pages >> 7)};
        byte[] tail = {0x07, 0x35, 0x02, // export section (53 bytes), two exports
            0x17, 'p', 'r', 'o', 'x', 'y', '_', 'a', 'b', 'i', '_', 'v', 'e', 'r', 's', 'i', 'o', 'n', '_', '0', '_', '2', '_', '0',
            0x00, 0x00,
            0x17, 'p', 'r', 'o', 'x', 'y', '_', 'o', 'n', '_', 'c', 'o', 'n', 't', 'e', 'x', 't', '_', 'c', 'r', 'e', 'a', 't', 'e',
            0x00, 0x01,
            0x0a, 0x07, 0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b}; // code section: two empty bodies
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.writeBytes(head);
        out.writeBytes(memory);
        out.writeBytes(tail);
        return out.toByteArray();
    }

    @Test
    void aModuleWithTheProxyWasmAbi_isLoaded_withItsSettings() throws Exception {
        byte[] module = abiModule(0);
        Path file = Files.write(directory.resolve("guard.wasm"), module);

        LoadResult result = load(plugin("guard", file, Sha256.hex(module)));

        assertThat(result.errors()).isEmpty();
        assertThat(result.policies().gateway().plugins()).containsExactly(new Gateway.Plugin("guard", file.toString(),
                Sha256.hex(module), "k=v", true, java.util.List.of("acme"), java.time.Duration.ofMillis(100), java.util.List.of(),
                java.util.EnumSet.allOf(PluginPhase.class).stream().filter(p -> p != PluginPhase.UNRECOGNIZED)
                        .collect(java.util.stream.Collectors.toSet()), 64L << 20));
        assertThat(result.policies().gateway().pluginsSeeResponseHeaders()).isTrue();
    }

    @Test
    void phasesModelsAndMemory_areTheOnesListed() throws Exception {
        byte[] module = abiModule(16); // 1 MiB at start
        Path file = Files.write(directory.resolve("guard.wasm"), module);
        String plugins = "    - {name: guard, file: \"" + file + "\", sha256: \"sha256:" + Sha256.hex(module) + "\","
                + " phases: [requestBody, responseBody], models: [m1], memoryLimit: 2Mi}\n";
        LoadResult result = load(plugins, Map.of("route.yaml", """
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: m1}
                spec:
                  model: m1
                  versions: [{name: v1, pool: p, weight: 1}]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p}
                spec:
                  endpoints: ["127.0.0.1:8000"]
                """));

        assertThat(result.errors()).isEmpty();
        Gateway.Plugin plugin = result.policies().gateway().plugins().get(0);
        assertThat(plugin.phases()).containsExactlyInAnyOrder(PluginPhase.PLUGIN_PHASE_REQUEST_BODY, PluginPhase.PLUGIN_PHASE_RESPONSE_BODY);
        assertThat(plugin.models()).containsExactly("m1");
        assertThat(plugin.memoryBytes()).isEqualTo(2L << 20);
        assertThat(result.policies().gateway().pluginsSeeResponseHeaders()).as("no plugin runs on response headers").isFalse();
    }

    @Test
    void aModuleThatStartsOverItsMemoryLimit_orAnUnknownModel_isAnErrorAtThePlugin() throws Exception {
        byte[] module = abiModule(32); // 2 MiB at start
        Path file = Files.write(directory.resolve("big.wasm"), module);
        LoadResult result = load("    - {name: big, file: \"" + file + "\", sha256: \"sha256:" + Sha256.hex(module) + "\","
                + " memoryLimit: 1Mi}\n"
                + "    - {name: scoped, file: \"" + file + "\", sha256: \"sha256:" + Sha256.hex(module) + "\", models: [nope]}\n");

        assertThat(result.errors()).extracting(PolicyError::toString).anySatisfy(e -> assertThat(e)
                .startsWith("gateway.yaml:7:").contains("plugin 'big': " + file + " starts with 2048 KiB of memory, more than the"
                        + " memoryLimit of 1Mi"));
        assertThat(result.errors()).extracting(PolicyError::toString).anySatisfy(e -> assertThat(e)
                .startsWith("gateway.yaml:8:").contains("plugin 'scoped': unknown model 'nope'"));
    }

    @Test
    void everyBadModule_isAnErrorAtThePlugin_andNothingLoads() throws Exception {
        Path empty = Files.write(directory.resolve("empty.wasm"), EMPTY_MODULE);
        Path text = Files.writeString(directory.resolve("text.wasm"), "not a module");
        String plugins = plugin("missing", directory.resolve("nowhere.wasm"), "a".repeat(64))
                + plugin("digest", empty, "b".repeat(64))
                + plugin("text", text, Sha256.hex(Files.readAllBytes(text)))
                + plugin("abi", empty, Sha256.hex(EMPTY_MODULE))
                + plugin("abi", empty, Sha256.hex(EMPTY_MODULE));

        LoadResult result = load(plugins);

        assertThat(result.ok()).isFalse();
        assertThat(result.errors()).extracting(PolicyError::toString).anySatisfy(e -> assertThat(e)
                .startsWith("gateway.yaml:7:").contains("plugin 'missing': cannot read " + directory.resolve("nowhere.wasm")));
        assertThat(result.errors()).extracting(PolicyError::toString).anySatisfy(e -> assertThat(e)
                .startsWith("gateway.yaml:8:").contains("plugin 'digest': " + empty + " has digest sha256:"
                        + Sha256.hex(EMPTY_MODULE) + ", not the sha256:" + "b".repeat(64)));
        assertThat(result.errors()).extracting(PolicyError::toString).anySatisfy(e -> assertThat(e)
                .startsWith("gateway.yaml:9:").contains("plugin 'text': " + text + " is not a WebAssembly module"));
        assertThat(result.errors()).extracting(PolicyError::toString).anySatisfy(e -> assertThat(e)
                .startsWith("gateway.yaml:10:").contains("does not export the proxy-wasm ABI"));
        assertThat(result.errors()).extracting(PolicyError::toString).anySatisfy(e -> assertThat(e)
                .startsWith("gateway.yaml:11:").contains("plugin 'abi' is listed twice"));
    }

    @Test
    void pluginsNeedTheFilter() throws Exception {
        LoadResult result = PolicyLoader.load(Map.of("gateway.yaml", """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: g}
                spec:
                  plugins: [{name: guard, file: /x.wasm, sha256: "sha256:%s"}]
                """.formatted("c".repeat(64))));

        assertThat(result.errors()).extracting(PolicyError::toString).anySatisfy(e -> assertThat(e).contains("cannot read /x.wasm"));
    }
}
