package io.aimesh.testing;

import static java.util.Objects.requireNonNull;

import java.io.IOException;

/**
 * Says what a {@link Mesh} runs; {@link #start} starts it. Without {@link #filter} the mesh is the
 * control plane and Envoy in front of model-sims; with it, the ai-filter is in the path and the
 * standard tenants are in the policies. Not thread-safe.
 */
public final class MeshBuilder {
    boolean delta;
    int v1Weight = 1;
    /** -1: one version only. */
    int v2Weight = -1;
    String failureMode;
    long acmeTokensPerMinute = 100_000_000;
    String streamOverrun = "finish";
    int defaultMaxTokens = 256;
    String extraPolicies = "";
    String messageTimeout = "2s";
    String gatewayIdentity = "{trustedHop: true}";
    long maxRequestBytes = 65536;
    String gatewaySpec = "";
    java.nio.file.Path spendDirectory;
    private String filterSetting;

    MeshBuilder() {
    }

    /** Whether Envoy speaks delta ADS (default: state of the world). */
    public MeshBuilder delta(boolean delta) {
        this.delta = delta;
        return this;
    }

    /**
     * Two versions of {@link Mesh#MODEL}, v1 and v2, two model-sims each, split by these weights and
     * forced by the header {@code x-aimesh-version}. Default: v1 only, two model-sims.
     */
    public MeshBuilder canary(int v1Weight, int v2Weight) {
        if (v1Weight < 0 || v2Weight < 0) {
            throw new IllegalArgumentException("weights: " + v1Weight + ", " + v2Weight + " (expected: >= 0)");
        }
        this.v1Weight = v1Weight;
        this.v2Weight = v2Weight;
        return this;
    }

    /** Puts the ai-filter in the path, Envoy's ext_proc failing {@code open} or {@code closed}. */
    public MeshBuilder filter(String failureMode) {
        if (!"open".equals(failureMode) && !"closed".equals(failureMode)) {
            throw new IllegalArgumentException("failureMode: " + failureMode + " (expected: open or closed)");
        }
        this.failureMode = failureMode;
        return this;
    }

    /** Tenant acme's total-token limit per minute (default: 100,000,000). Needs {@link #filter}. */
    public MeshBuilder acmeTokensPerMinute(long tokens) {
        this.acmeTokensPerMinute = tokens;
        return filterSetting("acmeTokensPerMinute");
    }

    /** The Gateway's {@code streamOverrun}, {@code finish} (default) or {@code cut}. Needs {@link #filter}. */
    public MeshBuilder streamOverrun(String streamOverrun) {
        this.streamOverrun = requireNonNull(streamOverrun, "streamOverrun");
        return filterSetting("streamOverrun");
    }

    /** What the filter reserves for a request without max_tokens (default: 256). Needs {@link #filter}. */
    public MeshBuilder defaultMaxTokens(int tokens) {
        this.defaultMaxTokens = tokens;
        return filterSetting("defaultMaxTokens");
    }

    /** Envoy's ext_proc message timeout, a policy duration (default: {@code 2s}). Needs {@link #filter}. */
    public MeshBuilder messageTimeout(String timeout) {
        this.messageTimeout = requireNonNull(timeout, "timeout");
        return filterSetting("messageTimeout");
    }

    /**
     * The Gateway's {@code spec.identity} as a YAML flow mapping (default: {@code {trustedHop: true}}).
     * Needs {@link #filter}.
     */
    public MeshBuilder gatewayIdentity(String identity) {
        this.gatewayIdentity = requireNonNull(identity, "identity");
        return filterSetting("gatewayIdentity");
    }

    /** The filter's {@code maxRequestBytes} (default: 65,536). Needs {@link #filter}. */
    public MeshBuilder maxRequestBytes(long bytes) {
        this.maxRequestBytes = bytes;
        return filterSetting("maxRequestBytes");
    }

    /**
     * More fields of the Gateway's spec, as YAML lines indented by two spaces (e.g.
     * {@code "  trustedCidrs: [127.0.0.0/8]"}). Needs {@link #filter}.
     */
    public MeshBuilder gatewaySpec(String yaml) {
        this.gatewaySpec = requireNonNull(yaml, "yaml");
        return filterSetting("gatewaySpec");
    }

    /** Where the filter journals spend (its {@code --spend-dir}), kept across {@link Mesh#stopFilter} and {@link Mesh#startFilter}. */
    public MeshBuilder spendDirectory(java.nio.file.Path directory) {
        this.spendDirectory = requireNonNull(directory, "directory");
        return filterSetting("spendDirectory");
    }

    /** YAML documents added to the standard policies (in a file of their own, {@code extra.yaml}). */
    public MeshBuilder extraPolicies(String yaml) {
        this.extraPolicies = requireNonNull(yaml, "yaml");
        return this;
    }

    /** Starts the model-sims, the control plane, the filter if asked for, and Envoy, and waits until a request gets through. */
    public Mesh start() throws IOException {
        if (failureMode == null && filterSetting != null) {
            throw new IllegalStateException(filterSetting + " is a setting of the filter: call filter(...) too");
        }
        return Mesh.start(this);
    }

    private MeshBuilder filterSetting(String name) {
        filterSetting = name;
        return this;
    }
}
