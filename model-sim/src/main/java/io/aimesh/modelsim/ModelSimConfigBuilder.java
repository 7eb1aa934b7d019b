package io.aimesh.modelsim;

/**
 * Builds a {@link ModelSimConfig}; obtain one from {@link ModelSimConfig#builder()}.
 *
 * <p>Defaults: host {@code 127.0.0.1}, port 0 (free port), model {@code sim-model}, version {@code v1},
 * speed 1.0, maxSeqs 16, kvTokens 16384, seed 1, failRate 0, extraLatencyMs 0, instanceName {@code null}
 * ({@code HOST:PORT}). Values are validated by {@link #build()}. Not thread-safe.
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

    /** Returns the config; throws {@link IllegalArgumentException} or {@link NullPointerException} if invalid. */
    public ModelSimConfig build() {
        return new ModelSimConfig(host, port, model, version, speed, maxSeqs, kvTokens, seed, failRate,
                extraLatencyMs, instanceName);
    }
}
