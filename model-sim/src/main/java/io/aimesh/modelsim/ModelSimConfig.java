package io.aimesh.modelsim;

import static java.util.Objects.requireNonNull;

import java.util.HashSet;
import java.util.List;

/**
 * Configuration of one simulated inference server.
 *
 * @param host interface to bind, e.g. {@code 127.0.0.1}; non-blank
 * @param port TCP port in {@code [0, 65535]}; {@code 0} binds a free port, see {@link ModelSimServer#port()}
 * @param model the one model name served; requests naming another model get 404 {@code model_not_found}
 * @param version reported in the {@code x-model-sim-version} header, e.g. {@code v1}; no control characters
 * @param speed GPU speed multiplier, {@code > 0}; 2.0 halves every step time
 * @param maxSeqs most sequences decoded together in one engine step (vLLM {@code max_num_seqs}), {@code >= 1}
 * @param kvTokens KV cache capacity in tokens, {@code >= 2}; also the context length limit of one request
 * @param seed seeds output lengths, generated text and injected failures
 * @param failRate probability in {@code [0, 1]} that a valid request fails with 500 before it is queued
 * @param extraLatencyMs delay in milliseconds, {@code >= 0}, added before a request enters the queue
 * @param instanceName reported in the {@code x-model-sim-instance} header; {@code null} means
 *     {@code HOST:PORT} of the bound socket; otherwise non-blank without control characters
 * @param blockSize tokens per KV-cache block (vLLM {@code --block-size}), {@code >= 1}
 * @param prefixCaching whether prompts share the KV blocks of a common prefix and skip its prefill
 *     (vLLM's automatic prefix caching, on by default in vLLM)
 * @param loraAdapters LoRA adapter names served beside {@code model} (vLLM {@code --lora-modules}): a
 *     request naming one runs with it; none by default. Distinct, non-blank, none equal to {@code model}
 * @param maxLoras adapters in GPU slots at once (vLLM {@code --max-loras}), {@code >= 1}
 * @param loraLoadMillis time a load of an adapter into a slot adds to its step, {@code >= 0}
 */
public record ModelSimConfig(
        String host,
        int port,
        String model,
        String version,
        double speed,
        int maxSeqs,
        int kvTokens,
        long seed,
        double failRate,
        int extraLatencyMs,
        String instanceName,
        int blockSize,
        boolean prefixCaching,
        List<String> loraAdapters,
        int maxLoras,
        double loraLoadMillis) {

    public ModelSimConfig {
        requireText(host, "host");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
        }
        requireText(model, "model");
        requireHeaderValue(version, "version");
        if (!(speed > 0) || Double.isInfinite(speed)) {
            throw new IllegalArgumentException("speed: " + speed + " (expected: > 0)");
        }
        if (maxSeqs < 1) {
            throw new IllegalArgumentException("maxSeqs: " + maxSeqs + " (expected: >= 1)");
        }
        if (kvTokens < 2) {
            // One prompt token plus one generated token is the smallest request.
            throw new IllegalArgumentException("kvTokens: " + kvTokens + " (expected: >= 2)");
        }
        if (!(failRate >= 0 && failRate <= 1)) {
            throw new IllegalArgumentException("failRate: " + failRate + " (expected: 0..1)");
        }
        if (extraLatencyMs < 0) {
            throw new IllegalArgumentException("extraLatencyMs: " + extraLatencyMs + " (expected: >= 0)");
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize: " + blockSize + " (expected: >= 1)");
        }
        loraAdapters = List.copyOf(loraAdapters);
        if (new HashSet<>(loraAdapters).size() != loraAdapters.size()) {
            throw new IllegalArgumentException("loraAdapters: " + loraAdapters + " (expected: distinct names)");
        }
        for (String adapter : loraAdapters) {
            requireHeaderValue(adapter, "loraAdapters");
            if (adapter.equals(model)) {
                throw new IllegalArgumentException("loraAdapters: " + adapter + " is the base model's name");
            }
        }
        if (maxLoras < 1) {
            throw new IllegalArgumentException("maxLoras: " + maxLoras + " (expected: >= 1)");
        }
        if (!(loraLoadMillis >= 0) || Double.isInfinite(loraLoadMillis)) {
            throw new IllegalArgumentException("loraLoadMillis: " + loraLoadMillis + " (expected: >= 0)");
        }
        if (instanceName != null) {
            requireHeaderValue(instanceName, "instanceName");
        }
    }

    /** Returns a builder with the defaults listed on {@link ModelSimConfigBuilder}. */
    public static ModelSimConfigBuilder builder() {
        return new ModelSimConfigBuilder();
    }

    private static void requireText(String value, String name) {
        requireNonNull(value, name);
        if (value.isBlank()) {
            throw new IllegalArgumentException(name + ": \"" + value + "\" (expected: non-blank)");
        }
    }

    private static void requireHeaderValue(String value, String name) {
        requireText(value, name);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new IllegalArgumentException(
                        name + ": control character at index " + i + " (expected: a valid HTTP header value)");
            }
        }
    }
}
