package io.aimesh.modelsim;

import java.util.List;

/**
 * Builds a {@link ModelSimConfig}; obtain one from {@link ModelSimConfig#builder()}.
 *
 * <p>Defaults: host {@code 127.0.0.1}, port 0 (free port), model {@code sim-model}, version {@code v1},
 * speed 1.0, maxSeqs 16, kvTokens 16384, seed 1, failRate 0, extraLatencyMs 0, instanceName {@code null}
 * ({@code HOST:PORT}), blockSize 16, prefixCaching on, no LoRA adapters, maxLoras 1 (vLLM's defaults),
 * loraLoadMillis 20. Values are validated by {@link #build()}. Not thread-safe.
 */
public final class ModelSimConfigBuilder {

    private String host = "127.0.0.1";
    private int port;
    private String model = "sim-model";
    private String version = "v1";
    private double speed = 1.0;
    private int maxSeqs = 16;
    private int kvTokens = 16_384;
    private long seed = 1;
    private double failRate;
    private int extraLatencyMs;
    private String instanceName;
    private int blockSize = 16;
    private boolean prefixCaching = true;
    private List<String> loraAdapters = List.of();
    private int maxLoras = 1;
    private double loraLoadMillis = 20;

    ModelSimConfigBuilder() {}

    public ModelSimConfigBuilder host(String host) {
        this.host = host;
        return this;
    }

    public ModelSimConfigBuilder port(int port) {
        this.port = port;
        return this;
    }

    public ModelSimConfigBuilder model(String model) {
        this.model = model;
        return this;
    }

    public ModelSimConfigBuilder version(String version) {
        this.version = version;
        return this;
    }

    public ModelSimConfigBuilder speed(double speed) {
        this.speed = speed;
        return this;
    }

    public ModelSimConfigBuilder maxSeqs(int maxSeqs) {
        this.maxSeqs = maxSeqs;
        return this;
    }

    public ModelSimConfigBuilder kvTokens(int kvTokens) {
        this.kvTokens = kvTokens;
        return this;
    }

    public ModelSimConfigBuilder seed(long seed) {
        this.seed = seed;
        return this;
    }

    public ModelSimConfigBuilder failRate(double failRate) {
        this.failRate = failRate;
        return this;
    }

    public ModelSimConfigBuilder extraLatencyMs(int extraLatencyMs) {
        this.extraLatencyMs = extraLatencyMs;
        return this;
    }

    /** Sets the instance name; {@code null} (the default) means {@code HOST:PORT} of the bound socket. */
    public ModelSimConfigBuilder instanceName(String instanceName) {
        this.instanceName = instanceName;
        return this;
    }

    public ModelSimConfigBuilder blockSize(int blockSize) {
        this.blockSize = blockSize;
        return this;
    }

    public ModelSimConfigBuilder prefixCaching(boolean prefixCaching) {
        this.prefixCaching = prefixCaching;
        return this;
    }

    public ModelSimConfigBuilder loraAdapters(List<String> loraAdapters) {
        this.loraAdapters = loraAdapters;
        return this;
    }

    public ModelSimConfigBuilder maxLoras(int maxLoras) {
        this.maxLoras = maxLoras;
        return this;
    }

    public ModelSimConfigBuilder loraLoadMillis(double loraLoadMillis) {
        this.loraLoadMillis = loraLoadMillis;
        return this;
    }

    /** Returns the config; throws {@link IllegalArgumentException} or {@link NullPointerException} if invalid. */
    public ModelSimConfig build() {
        return new ModelSimConfig(host, port, model, version, speed, maxSeqs, kvTokens, seed, failRate,
                extraLatencyMs, instanceName, blockSize, prefixCaching, loraAdapters, maxLoras, loraLoadMillis);
    }
}
