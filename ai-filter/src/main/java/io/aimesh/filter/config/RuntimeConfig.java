package io.aimesh.filter.config;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.Limit;
import io.aimesh.filter.api.Model;
import io.aimesh.filter.api.Pool;
import io.aimesh.filter.api.Scorers;
import io.aimesh.filter.api.StreamOverrun;
import io.aimesh.filter.api.Tenant;
import io.aimesh.filter.api.Version;
import io.aimesh.filter.api.VersionOverride;
import io.aimesh.filter.body.RequestBodyParser;
import io.aimesh.filter.body.TokenEstimator;
import io.aimesh.filter.limit.LimitRule;
import io.aimesh.filter.limit.TenantLimits;
import io.aimesh.picker.Endpoint;
import io.aimesh.picker.MonitorOptions;
import io.aimesh.picker.PoolSetup;
import io.aimesh.picker.ScorerWeights;
import io.aimesh.picker.Thresholds;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The filter's configuration as the request path uses it: lookups by model, API key digest
 * and trusted header, built once per config version. Immutable and thread-safe.
 */
public final class RuntimeConfig {
    /**
     * A model clients may request, with the estimator of its prompt tokens and, when the filter
     * chooses its version (a pool of it is a picker pool), its versions and overrides; both lists
     * are empty when Envoy splits by weight.
     */
    public record ModelInfo(String name, TokenEstimator estimator, int defaultMaxTokens, List<VersionInfo> versions,
                            List<OverrideInfo> overrides) {
        public ModelInfo {
            versions = List.copyOf(versions);
            overrides = List.copyOf(overrides);
        }

        /** Whether the filter chooses the version. */
        public boolean filterRouted() {
            return !versions.isEmpty();
        }

        /**
         * The version a request goes to: the first override whose header has its value, else a draw
         * by weight; {@code null} when every weight is 0 and no override applies.
         *
         * @param header the request's value of a header, or {@code null}
         * @param draw uniform in {@code [0, 1)}
         */
        public VersionInfo chooseVersion(java.util.function.Function<String, String> header, double draw) {
            for (OverrideInfo override : overrides) {
                if (override.value().equals(header.apply(override.header()))) {
                    return override.version();
                }
            }
            long total = 0;
            for (VersionInfo version : versions) {
                total += version.weight();
            }
            if (total == 0) {
                return null;
            }
            long point = (long) (draw * total);
            for (VersionInfo version : versions) {
                point -= version.weight();
                if (point < 0) {
                    return version;
                }
            }
            return versions.get(versions.size() - 1);
        }
    }

    /** A version of a model that the filter routes: the pool that serves it and its weight. */
    public record VersionInfo(String name, String pool, int weight) {
    }

    /** Requests with {@code header: value} go to {@code version}. */
    public record OverrideInfo(String header, String value, VersionInfo version) {
    }

    /**
     * A pool whose endpoints the filter picks, and what happens to a request that finds every
     * endpoint saturated: it waits ({@code queueSize > 0}) up to {@code queueTimeout}, or is
     * refused with {@code retryAfterSeconds}.
     */
    public record PoolInfo(String name, PoolSetup setup, long retryAfterSeconds, int queueSize, Duration queueTimeout) {
    }

    /** A tenant with the models it may use ({@code null} set means all) and its limits. */
    public record TenantInfo(String name, Set<String> allowedModels, TenantLimits limits) {
        public boolean allows(String model) {
            return allowedModels == null || allowedModels.contains(model);
        }
    }

    private static final Set<String> TOKENIZERS = Set.of("cl100k_base", "o200k_base", "p50k_base", "r50k_base", "approximate");

    private final String version;
    private final Map<String, ModelInfo> models;
    private final Map<String, PoolInfo> pools;
    private final Map<String, TenantInfo> byKeyDigest;
    private final Map<String, Map<String, TenantInfo>> byHeader;
    private final boolean identityRequired;
    private final RequestBodyParser parser;
    private final boolean cutOverrunningStreams;
    private final Set<String> clientHeaders;
    private final long messageTimeoutNanos;

    private RuntimeConfig(String version, Map<String, ModelInfo> models, Map<String, PoolInfo> pools,
                          Map<String, TenantInfo> byKeyDigest,
                          Map<String, Map<String, TenantInfo>> byHeader, boolean identityRequired, long maxRequestBytes,
                          boolean cutOverrunningStreams, Set<String> clientHeaders, long messageTimeoutNanos) {
        this.version = version;
        this.models = models;
        this.pools = pools;
        this.byKeyDigest = byKeyDigest;
        this.byHeader = byHeader;
        this.identityRequired = identityRequired;
        this.parser = RequestBodyParser.of((int) Math.min(Integer.MAX_VALUE - 8, maxRequestBytes));
        this.cutOverrunningStreams = cutOverrunningStreams;
        this.clientHeaders = clientHeaders;
        this.messageTimeoutNanos = messageTimeoutNanos;
    }

    /**
     * Builds the runtime view of {@code config}.
     *
     * @throws InvalidConfigException when the config is inconsistent (the control plane validated
     *     it, so this means a version skew or a bug; the filter NACKs it and keeps its old config)
     */
    static RuntimeConfig compile(FilterConfig config, String version) throws InvalidConfigException {
        Map<String, ModelInfo> models = new HashMap<>();
        for (Model model : config.getModelsList()) {
            if (!TOKENIZERS.contains(model.getTokenizer())) {
                throw new InvalidConfigException("model " + model.getName() + ": unknown tokenizer '" + model.getTokenizer() + "'");
            }
            models.put(model.getName(), model(model));
        }
        Map<String, PoolInfo> pools = new HashMap<>();
        for (Pool pool : config.getPoolsList()) {
            pools.put(pool.getName(), pool(pool));
        }
        for (ModelInfo model : models.values()) {
            for (VersionInfo routed : model.versions()) {
                if (routed.pool().isEmpty()) {
                    throw new InvalidConfigException("model " + model.name() + " version " + routed.name() + ": no pool");
                }
            }
        }
        Map<String, TenantInfo> byKey = new HashMap<>();
        Map<String, Map<String, TenantInfo>> byHeader = new HashMap<>();
        for (Tenant tenant : config.getTenantsList()) {
            TenantInfo info = new TenantInfo(tenant.getName(),
                    tenant.getAllowedModelsList().contains("*") || tenant.getAllowedModelsCount() == 0
                            ? null : Set.copyOf(tenant.getAllowedModelsList()),
                    limits(tenant));
            for (String digest : tenant.getApiKeySha256List()) {
                byKey.put(digest, info);
            }
            if (!tenant.getTrustedHeader().getName().isEmpty()) {
                byHeader.computeIfAbsent(tenant.getTrustedHeader().getName(), h -> new HashMap<>())
                        .put(tenant.getTrustedHeader().getValue(), info);
            }
        }
        long maxBytes = config.getSettings().getMaxRequestBytes() == 0 ? 1 << 20 : config.getSettings().getMaxRequestBytes();
        return new RuntimeConfig(version, Map.copyOf(models), Map.copyOf(pools), Map.copyOf(byKey), Map.copyOf(byHeader),
                config.getTenantsCount() > 0, maxBytes,
                config.getSettings().getStreamOverrun() == StreamOverrun.STREAM_OVERRUN_CUT,
                Set.copyOf(config.getSettings().getClientHeadersList()),
                // 0 from an older control plane: assume Envoy's default, 200 ms.
                1_000_000L * (config.getSettings().getMessageTimeoutMs() == 0 ? 200 : config.getSettings().getMessageTimeoutMs()));
    }

    private static ModelInfo model(Model model) throws InvalidConfigException {
        Map<String, VersionInfo> versions = new java.util.LinkedHashMap<>();
        for (Version version : model.getVersionsList()) {
            versions.put(version.getName(), new VersionInfo(version.getName(), version.getPool(), version.getWeight()));
        }
        List<OverrideInfo> overrides = new java.util.ArrayList<>();
        for (VersionOverride override : model.getOverridesList()) {
            VersionInfo target = versions.get(override.getVersion());
            if (target == null) {
                throw new InvalidConfigException("model " + model.getName() + ": override names unknown version '"
                        + override.getVersion() + "'");
            }
            overrides.add(new OverrideInfo(override.getHeader(), override.getValue(), target));
        }
        return new ModelInfo(model.getName(), TokenEstimator.of(model.getTokenizer()), Math.max(1, model.getDefaultMaxTokens()),
                List.copyOf(versions.values()), overrides);
    }

    private static PoolInfo pool(Pool pool) throws InvalidConfigException {
        try {
            List<Endpoint> endpoints = new java.util.ArrayList<>();
            for (String authority : pool.getEndpointsList()) {
                int colon = authority.lastIndexOf(':');
                String host = authority.substring(0, Math.max(0, colon));
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                endpoints.add(new Endpoint(host, Integer.parseInt(authority.substring(colon + 1))));
            }
            Scorers scorers = pool.getScorers();
            PoolSetup setup = new PoolSetup(endpoints,
                    MonitorOptions.of(Duration.ofMillis(Math.max(1, pool.getMetricsIntervalMs()))).withMetricsPath(pool.getMetricsPath()),
                    new ScorerWeights(scorers.getQueue(), scorers.getKvCache(), scorers.getInFlight(), scorers.getPrefixAffinity(),
                            scorers.getLoraAffinity()),
                    new Thresholds(pool.getMaxQueue(), pool.getMaxKvCachePercent() / 100.0, Thresholds.DEFAULT.affinityMaxQueue()));
            return new PoolInfo(pool.getName(), setup, Math.max(1, pool.getRetryAfterSeconds()),
                    pool.getQueueWhenSaturated() ? Math.max(1, pool.getQueueSize()) : 0,
                    Duration.ofMillis(Math.max(1, pool.getQueueTimeoutMs())));
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new InvalidConfigException("pool " + pool.getName() + ": " + e.getMessage());
        }
    }

    private static TenantLimits limits(Tenant tenant) throws InvalidConfigException {
        List<LimitRule> rules = new java.util.ArrayList<>();
        for (Limit limit : tenant.getLimitsList()) {
            try {
                rules.add(new LimitRule(limit.getId(), limit.getModelsList(), Duration.ofSeconds(limit.getWindowSeconds()),
                        limit.getTokens(), new LimitRule.Cost(limit.getInputWeight(), limit.getOutputWeight()), limit.getBurst()));
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException("tenant " + tenant.getName() + " limit " + limit.getId() + ": " + e.getMessage());
            }
        }
        return new TenantLimits(tenant.getName(), rules, tenant.getRequestsPerMinute());
    }

    public String version() {
        return version;
    }

    /** Returns the model, or {@code null} when no route serves it. */
    public ModelInfo model(String name) {
        return models.get(name);
    }

    /** The picker pools by name. */
    public Map<String, PoolInfo> pools() {
        return pools;
    }

    /** Whether requests must identify a tenant (any Tenant policy exists). */
    public boolean identityRequired() {
        return identityRequired;
    }

    /** The tenant owning the API key with this lower-case hex SHA-256, or {@code null}. */
    public TenantInfo tenantByKeyDigest(String digest) {
        return byKeyDigest.get(digest);
    }

    /** Trusted gateway headers: header name to value to tenant. */
    public Map<String, Map<String, TenantInfo>> tenantHeaders() {
        return byHeader;
    }

    /** The request body parser, with this config's size limit. */
    public RequestBodyParser parser() {
        return parser;
    }

    public boolean cutOverrunningStreams() {
        return cutOverrunningStreams;
    }

    /**
     * How long a request may wait for an endpoint of a saturated pool: its pool's
     * {@code queueTimeout}, but less than Envoy's ext_proc message timeout by a margin, since Envoy
     * stops waiting for the filter's answer then (and fails the request, or lets it through
     * unfiltered when failing open).
     */
    public long queueWaitNanos(Duration queueTimeout) {
        long margin = Math.min(50_000_000L, messageTimeoutNanos / 5);
        return Math.max(1_000_000L, Math.min(queueTimeout.toNanos(), messageTimeoutNanos - margin));
    }

    /** The {@code x-aimesh-*} headers clients may send (override headers). */
    public Set<String> clientHeaders() {
        return clientHeaders;
    }

    @Override
    public String toString() {
        return models.size() + " models, " + pools.size() + " picker pools, " + (byKeyDigest.size() + byHeader.size())
                + " tenant identities";
    }
}
