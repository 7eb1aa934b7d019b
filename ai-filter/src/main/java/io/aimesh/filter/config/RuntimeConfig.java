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
                            List<OverrideInfo> overrides, CoalesceInfo coalesce, StickinessInfo stickiness, MirrorInfo mirror,
                            Map<String, String> splitPools) {
        public ModelInfo {
            versions = List.copyOf(versions);
            overrides = List.copyOf(overrides);
            splitPools = Map.copyOf(splitPools);
        }

        /** Whether the filter measures each request against a version: it chooses it, or Envoy's split names it by pool. */
        public boolean versioned() {
            return !versions.isEmpty() || !splitPools.isEmpty();
        }

        /** The version whose pool is {@code pool}, among the filter's versions or Envoy's split; {@code null} if none. */
        public String versionOfPool(String pool) {
            if (pool == null) {
                return null;
            }
            for (VersionInfo version : versions) {
                if (version.pool().equals(pool)) {
                    return version.name();
                }
            }
            return splitPools.get(pool);
        }

        /** Whether the filter chooses the version. */
        public boolean filterRouted() {
            return !versions.isEmpty();
        }

        /** Whether a version of the model is served by a pool dedicated to {@code tenant} ({@code null}: none). */
        public boolean dedicatedTo(String tenant) {
            if (tenant == null) {
                return false;
            }
            for (VersionInfo version : versions) {
                if (version.dedicatedTenants().contains(tenant)) {
                    return true;
                }
            }
            return false;
        }

        /** As {@link #choose} for a request of no tenant: the version, or {@code null}. */
        public VersionInfo chooseVersion(java.util.function.Function<String, String> header, double draw) {
            return choose(header, draw, null).version();
        }

        /**
         * The version a request of {@code tenant} goes to, and the rule that chose it. A tenant with
         * a dedicated pool of this model goes to its dedicated versions only; every other request to
         * the shared versions only. Among those: the first override whose header has its value, else
         * a draw by weight (equal weights among dedicated versions whose weights are all 0). The
         * version is {@code null} when the weights of the eligible versions are all 0 and no override
         * applies, or when no version is eligible (the model is served by other tenants' pools only).
         *
         * @param header the request's value of a header, or {@code null}
         * @param draw uniform in {@code [0, 1)}
         * @param tenant the request's tenant, or {@code null}
         */
        public Choice choose(java.util.function.Function<String, String> header, double draw, String tenant) {
            return choose(header, draw, tenant, null);
        }

        /**
         * As {@link #choose(java.util.function.Function, double, String)}, but a request with a
         * stickiness key is placed by {@link StickyDraw} on the key instead of by {@code draw}: the
         * same key gets the same version while the weights stand ({@link RouteRule#STICKY}, or
         * {@link RouteRule#DEDICATED} among dedicated versions).
         *
         * @param stickyKey the request's stickiness key, or {@code null} to use {@code draw}
         */
        public Choice choose(java.util.function.Function<String, String> header, double draw, String tenant,
                             String stickyKey) {
            boolean dedicated = dedicatedTo(tenant);
            boolean anyEligibleVersion = false;
            for (OverrideInfo override : overrides) {
                if (override.version().eligible(tenant, dedicated) && override.value().equals(header.apply(override.header()))) {
                    return new Choice(override.version(), RouteRule.OVERRIDE, override);
                }
            }
            long total = 0;
            for (VersionInfo version : versions) {
                if (version.eligible(tenant, dedicated)) {
                    anyEligibleVersion = true;
                    total += version.weight();
                }
            }
            // A shared version of weight 0 is reachable by override only: when the weight is all on
            // dedicated versions, the model has nothing for other tenants.
            boolean someDedicated = versions.stream().anyMatch(v -> !v.dedicatedTenants().isEmpty());
            if (!anyEligibleVersion || (!dedicated && total == 0 && someDedicated)) {
                return new Choice(null, RouteRule.NO_ELIGIBLE_POOL, null);
            }
            boolean equal = total == 0 && dedicated;
            if (equal) {
                total = versions.stream().filter(v -> v.eligible(tenant, dedicated)).count();
            } else if (total == 0) {
                return new Choice(null, RouteRule.ALL_WEIGHTS_ZERO, null);
            }
            RouteRule rule = dedicated ? RouteRule.DEDICATED : stickyKey != null ? RouteRule.STICKY : RouteRule.WEIGHT;
            if (stickyKey != null) {
                return new Choice(sticky(stickyKey, tenant, dedicated, equal), rule, null);
            }
            long point = (long) (draw * total);
            VersionInfo last = null;
            for (VersionInfo version : versions) {
                if (!version.eligible(tenant, dedicated)) {
                    continue;
                }
                last = version;
                point -= equal ? 1 : version.weight();
                if (point < 0) {
                    return new Choice(version, rule, null);
                }
            }
            return new Choice(last, rule, null);
        }

        /** The eligible version of positive weight (or any eligible one, when {@code equal}) that {@code key} falls on. */
        private VersionInfo sticky(String key, String tenant, boolean dedicated, boolean equal) {
            long keyHash = StickyDraw.hash(key);
            VersionInfo best = null;
            double bestScore = Double.POSITIVE_INFINITY;
            for (VersionInfo version : versions) {
                int weight = equal ? 1 : version.weight();
                if (version.eligible(tenant, dedicated) && weight > 0) {
                    double score = StickyDraw.score(keyHash, version.name(), weight);
                    if (score < bestScore) {
                        bestScore = score;
                        best = version;
                    }
                }
            }
            return best;
        }

        /** The version {@link #mirror} copies to, when a request of {@code tenant} that went to {@code primary} gets a copy. */
        public VersionInfo mirrorFor(VersionInfo primary, String tenant) {
            if (mirror == null || mirror.version() == primary) {
                return null;
            }
            return mirror.version().eligible(tenant, dedicatedTo(tenant)) ? mirror.version() : null;
        }
    }

    /**
     * Where a model's stickiness key comes from: the tenant's name, a client header, or a claim of
     * the verified JWT payload (a whole claim name, else the dotted {@code path}).
     */
    public record StickinessInfo(Source source, String name, List<String> path) {
        /** Where the key comes from. */
        public enum Source { TENANT, HEADER, JWT_CLAIM }

        public StickinessInfo {
            java.util.Objects.requireNonNull(source, "source");
            path = List.copyOf(path);
        }
    }

    /**
     * Shadow traffic: a copy of {@code percent} % of a model's requests goes to {@code version},
     * at most {@code maxInFlight} at once per replica, to one of {@code endpoints} (ip:port) in turn,
     * or, when they are empty, to the endpoint picked in the version's picker pool; a copy still
     * unanswered after {@code timeout} is given up ({@link Duration#ZERO}: never).
     */
    public record MirrorInfo(VersionInfo version, int percent, int maxInFlight, List<String> endpoints, Duration timeout) {
        public MirrorInfo {
            java.util.Objects.requireNonNull(version, "version");
            java.util.Objects.requireNonNull(timeout, "timeout");
            endpoints = List.copyOf(endpoints);
        }
    }

    /**
     * How the filter coalesces a model's embeddings requests: at most {@code maxBatch} inputs a call,
     * {@code maxInFlight} calls at once, each to one of {@code targets} (ip:port) drawn by weight.
     */
    public record CoalesceInfo(int maxBatch, int maxInFlight, List<String> targets, List<Integer> weights) {
        public CoalesceInfo {
            targets = List.copyOf(targets);
            weights = List.copyOf(weights);
        }
    }

    /**
     * A version choice and the rule that made it, for the decision header.
     *
     * @param version the version, or {@code null} when none is chosen
     * @param override the override that chose it, for {@link RouteRule#OVERRIDE} only, else {@code null}
     */
    public record Choice(VersionInfo version, RouteRule rule, OverrideInfo override) {
        public Choice {
            java.util.Objects.requireNonNull(rule, "rule");
            if ((rule == RouteRule.OVERRIDE) != (override != null)) {
                throw new IllegalArgumentException("override: " + override + " (expected: set for OVERRIDE only)");
            }
        }

        /** The rule as {@code x-aimesh-decision} names it: {@code override HEADER=VALUE}, {@code weight}, .... */
        public String label() {
            return override == null ? rule.label() : rule.label() + " " + override.header() + "=" + override.value();
        }
    }

    /**
     * A version of a model that the filter routes: the pool that serves it, its weight, and the
     * tenants that pool is reserved for (empty when shared).
     */
    public record VersionInfo(String name, String pool, int weight, Set<String> dedicatedTenants) {
        public VersionInfo {
            dedicatedTenants = Set.copyOf(dedicatedTenants);
        }

        /** Whether a request of {@code tenant} may go here; {@code dedicated}: the tenant has a dedicated version of the model. */
        boolean eligible(String tenant, boolean dedicated) {
            return dedicated ? dedicatedTenants.contains(tenant) : dedicatedTenants.isEmpty();
        }
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
        /** The pool's slots: its endpoints times their in-flight limit; 0 when they have none. */
        public int slots() {
            return setup.thresholds().maxInFlight() * setup.endpoints().size();
        }
    }

    /**
     * A tenant with the models it may use ({@code null} set means all), its limits, its priority
     * class (per model where set) and its weight in a saturated pool's fair share.
     */
    public record TenantInfo(String name, Set<String> allowedModels, TenantLimits limits, Priority priority,
                             Map<String, Priority> modelPriorities, int share) {
        public boolean allows(String model) {
            return allowedModels == null || allowedModels.contains(model);
        }

        /** The tenant's priority class for requests to {@code model}. */
        public Priority priority(String model) {
            return modelPriorities.getOrDefault(model, priority);
        }
    }

    /** Priority classes, most important first: when a pool saturates, the last is refused first. */
    public enum Priority {
        CRITICAL, STANDARD, SHEDDABLE;

        /** The name in policies and decisions. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * The Redis that makes tenant limits global, and how replicas share them (see
     * {@link io.aimesh.filter.limit.GlobalBudgets}); {@code null} in a config without it.
     */
    public record GlobalLimitsInfo(String redis, io.aimesh.filter.limit.GlobalBudgets.Policy policy, long spendLeaseMicros) {
    }

    private static final Set<String> TOKENIZERS = Set.of("cl100k_base", "o200k_base", "p50k_base", "r50k_base", "approximate");

    private final String version;
    private final Map<String, ModelInfo> models;
    private final Map<String, PoolInfo> pools;
    private final Map<String, TenantInfo> byName;
    private final Map<String, TenantInfo> byKeyDigest;
    private final Map<String, TenantInfo> byJwtClaim;
    private final List<String> jwtClaimPath;
    private final Map<String, Map<String, TenantInfo>> byHeader;
    private final boolean identityRequired;
    private final RequestBodyParser parser;
    private final boolean cutOverrunningStreams;
    private final Set<String> clientHeaders;
    private final long messageTimeoutNanos;
    private final GlobalLimitsInfo globalLimits;
    private final SpendPlan spend;
    private final List<io.aimesh.filter.api.WasmPluginConfig> plugins;

    private RuntimeConfig(String version, Map<String, ModelInfo> models, Map<String, PoolInfo> pools,
                          Map<String, TenantInfo> byName, Map<String, TenantInfo> byKeyDigest, Map<String, TenantInfo> byJwtClaim,
                          List<String> jwtClaimPath,
                          Map<String, Map<String, TenantInfo>> byHeader, boolean identityRequired, long maxRequestBytes,
                          boolean cutOverrunningStreams, Set<String> clientHeaders, long messageTimeoutNanos,
                          GlobalLimitsInfo globalLimits, SpendPlan spend, List<io.aimesh.filter.api.WasmPluginConfig> plugins) {
        this.version = version;
        this.plugins = List.copyOf(plugins);
        this.models = models;
        this.pools = pools;
        this.byName = byName;
        this.byKeyDigest = byKeyDigest;
        this.byJwtClaim = byJwtClaim;
        this.jwtClaimPath = jwtClaimPath;
        this.byHeader = byHeader;
        this.identityRequired = identityRequired;
        this.parser = RequestBodyParser.of((int) Math.min(Integer.MAX_VALUE - 8, maxRequestBytes));
        this.cutOverrunningStreams = cutOverrunningStreams;
        this.clientHeaders = clientHeaders;
        this.messageTimeoutNanos = messageTimeoutNanos;
        this.globalLimits = globalLimits;
        this.spend = spend;
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
        Map<String, TenantInfo> byClaim = new HashMap<>();
        Map<String, TenantInfo> byName = new HashMap<>();
        Map<String, Map<String, TenantInfo>> byHeader = new HashMap<>();
        for (Tenant tenant : config.getTenantsList()) {
            Map<String, Priority> modelPriorities = new HashMap<>();
            for (Map.Entry<String, io.aimesh.filter.api.Priority> entry : tenant.getModelPrioritiesMap().entrySet()) {
                modelPriorities.put(entry.getKey(), priority(entry.getValue()));
            }
            TenantInfo info = new TenantInfo(tenant.getName(),
                    tenant.getAllowedModelsList().contains("*") || tenant.getAllowedModelsCount() == 0
                            ? null : Set.copyOf(tenant.getAllowedModelsList()),
                    limits(tenant), priority(tenant.getPriority()), Map.copyOf(modelPriorities), Math.max(1, tenant.getShare()));
            byName.put(tenant.getName(), info);
            for (String digest : tenant.getApiKeySha256List()) {
                byKey.put(digest, info);
            }
            if (!tenant.getJwtClaim().isEmpty()) {
                byClaim.put(tenant.getJwtClaim(), info);
            }
            if (!tenant.getTrustedHeader().getName().isEmpty() && config.getSettings().getTrustedHop()) {
                byHeader.computeIfAbsent(tenant.getTrustedHeader().getName(), h -> new HashMap<>())
                        .put(tenant.getTrustedHeader().getValue(), info);
            }
        }
        long maxBytes = config.getSettings().getMaxRequestBytes() == 0 ? 1 << 20 : config.getSettings().getMaxRequestBytes();
        String claim = config.getSettings().getJwtTenantClaim();
        return new RuntimeConfig(version, Map.copyOf(models), Map.copyOf(pools), Map.copyOf(byName), Map.copyOf(byKey),
                Map.copyOf(byClaim),
                claim.isEmpty() ? List.of() : List.of(claim.split("\\.")), Map.copyOf(byHeader),
                config.getTenantsCount() > 0, maxBytes,
                config.getSettings().getStreamOverrun() == StreamOverrun.STREAM_OVERRUN_CUT,
                Set.copyOf(config.getSettings().getClientHeadersList()),
                // 0 from an older control plane: assume Envoy's default, 200 ms.
                1_000_000L * (config.getSettings().getMessageTimeoutMs() == 0 ? 200 : config.getSettings().getMessageTimeoutMs()),
                globalLimits(config.getSettings()), SpendPlan.compile(config), config.getPluginsList());
    }

    /** The proxy-wasm plugins requests run through, in order (the filter loads them: see {@code PluginChain}). */
    public List<io.aimesh.filter.api.WasmPluginConfig> plugins() {
        return plugins;
    }

    private static ModelInfo model(Model model) throws InvalidConfigException {
        Map<String, VersionInfo> versions = new java.util.LinkedHashMap<>();
        for (Version version : model.getVersionsList()) {
            versions.put(version.getName(), new VersionInfo(version.getName(), version.getPool(), version.getWeight(),
                    Set.copyOf(version.getDedicatedTenantsList())));
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
        CoalesceInfo coalesce = null;
        if (model.hasCoalesce() && model.getCoalesce().getTargetsCount() > 0) {
            io.aimesh.filter.api.Coalesce c = model.getCoalesce();
            coalesce = new CoalesceInfo(Math.max(2, c.getMaxBatch()), Math.max(1, c.getMaxInFlight()),
                    c.getTargetsList().stream().map(io.aimesh.filter.api.CoalesceTarget::getEndpoint).toList(),
                    c.getTargetsList().stream().map(t -> Math.max(1, t.getWeight())).toList());
        }
        StickinessInfo stickiness = null;
        if (model.hasStickiness()) {
            io.aimesh.filter.api.Stickiness sticky = model.getStickiness();
            StickinessInfo.Source source = switch (sticky.getBy()) {
                case BY_HEADER -> StickinessInfo.Source.HEADER;
                case BY_JWT_CLAIM -> StickinessInfo.Source.JWT_CLAIM;
                default -> StickinessInfo.Source.TENANT;
            };
            if (source != StickinessInfo.Source.TENANT && sticky.getName().isEmpty()) {
                throw new InvalidConfigException("model " + model.getName() + ": stickiness " + sticky.getBy() + " without a name");
            }
            stickiness = new StickinessInfo(source, sticky.getName(), List.of(sticky.getName().split("\\.")));
        }
        MirrorInfo mirror = null;
        if (model.hasMirror()) {
            io.aimesh.filter.api.Mirror m = model.getMirror();
            VersionInfo target = versions.get(m.getVersion());
            if (target == null) {
                throw new InvalidConfigException("model " + model.getName() + ": mirror names unknown version '"
                        + m.getVersion() + "'");
            }
            mirror = new MirrorInfo(target, Math.min(100, Math.max(1, m.getPercent())), Math.max(1, m.getMaxInFlight()),
                    m.getEndpointsList(), Duration.ofMillis(m.getTimeoutMs()));
        }
        return new ModelInfo(model.getName(), TokenEstimator.of(model.getTokenizer()), Math.max(1, model.getDefaultMaxTokens()),
                List.copyOf(versions.values()), overrides, coalesce, stickiness, mirror, model.getSplitPoolsMap());
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
                    new Thresholds(pool.getMaxQueue(), pool.getMaxKvCachePercent() / 100.0, Thresholds.DEFAULT.prefixMaxQueue(),
                            Thresholds.DEFAULT.loraMaxQueue(),
                            pool.getMaxInFlight()));
            return new PoolInfo(pool.getName(), setup, Math.max(1, pool.getRetryAfterSeconds()),
                    pool.getQueueWhenSaturated() ? Math.max(1, pool.getQueueSize()) : 0,
                    Duration.ofMillis(Math.max(1, pool.getQueueTimeoutMs())));
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new InvalidConfigException("pool " + pool.getName() + ": " + e.getMessage());
        }
    }

    private static GlobalLimitsInfo globalLimits(io.aimesh.filter.api.Settings settings) throws InvalidConfigException {
        if (!settings.hasGlobalLimits()) {
            return null;
        }
        io.aimesh.filter.api.GlobalLimits global = settings.getGlobalLimits();
        try {
            io.lettuce.core.RedisURI.create(global.getRedis()); // refused here, as a NACK, rather than when connecting
            return new GlobalLimitsInfo(global.getRedis(), new io.aimesh.filter.limit.GlobalBudgets.Policy(
                    Math.max(1, global.getLeaseTokens()), Duration.ofMillis(Math.max(1, global.getSyncIntervalMs())),
                    global.getFailOpen() ? io.aimesh.filter.limit.GlobalBudgets.WhenDown.OPEN
                            : io.aimesh.filter.limit.GlobalBudgets.WhenDown.CLOSED,
                    global.getFailOpenTokens(), Duration.ofMillis(Math.max(1, global.getTimeoutMs()))),
                    Math.max(1, global.getSpendLeaseMicros()));
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException("global limits: " + e.getMessage());
        }
    }

    private static Priority priority(io.aimesh.filter.api.Priority priority) {
        return switch (priority) {
            case PRIORITY_CRITICAL -> Priority.CRITICAL;
            case PRIORITY_SHEDDABLE -> Priority.SHEDDABLE;
            default -> Priority.STANDARD;
        };
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

    /** The tenant called {@code name}, or {@code null}. */
    public TenantInfo tenant(String name) {
        return byName.get(name);
    }

    /** The tenant whose JWT claim value is {@code value}, or {@code null}. */
    public TenantInfo tenantByJwtClaim(String value) {
        return byJwtClaim.get(value);
    }

    /** The path of the claim that names the tenant in a verified JWT payload; empty when Envoy verifies no JWTs. */
    public List<String> jwtClaimPath() {
        return jwtClaimPath;
    }

    /** The claim's name as configured, which may be a claim's whole name with dots in it (a URL) rather than a path. */
    public String jwtClaimName() {
        return String.join(".", jwtClaimPath);
    }

    /** Trusted gateway headers (only when the hop before Envoy is trusted): header name to value to tenant. */
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

    /** How tenant limits are shared through Redis, or {@code null} when each replica limits alone. */
    public GlobalLimitsInfo globalLimits() {
        return globalLimits;
    }

    /** Prices and budgets. */
    public SpendPlan spend() {
        return spend;
    }

    /** The {@code x-aimesh-*} headers clients may send (override headers). */
    public Set<String> clientHeaders() {
        return clientHeaders;
    }

    @Override
    public String toString() {
        return models.size() + " models, " + pools.size() + " picker pools, "
                + (byKeyDigest.size() + byJwtClaim.size() + byHeader.size()) + " tenant identities";
    }
}
