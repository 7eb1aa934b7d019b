package io.aimesh.xds.translate;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.HeaderMatch;
import io.aimesh.filter.api.Limit;
import io.aimesh.filter.api.Mirror;
import io.aimesh.filter.api.Model;
import io.aimesh.filter.api.Pool;
import io.aimesh.filter.api.Priority;
import io.aimesh.filter.api.Scorers;
import io.aimesh.filter.api.Settings;
import io.aimesh.filter.api.Stickiness;
import io.aimesh.filter.api.StreamOverrun;
import io.aimesh.filter.api.Tenant;
import io.aimesh.filter.api.Version;
import io.aimesh.filter.api.VersionOverride;
import io.aimesh.policy.Balancing;
import io.aimesh.policy.FilterSettings;
import io.aimesh.policy.Gateway;
import io.aimesh.policy.HeaderOverride;
import io.aimesh.policy.InferencePool;
import io.aimesh.policy.ModelRoute;
import io.aimesh.policy.ModelVersion;
import io.aimesh.policy.PolicySet;
import io.aimesh.policy.TokenLimit;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Compiles the policies into the ai-filter's configuration: the models with their
 * tokenizers (and versions, where the filter chooses them), the picker pools, the tenants with
 * identities and limits, and the filter settings. Stateless.
 */
final class FilterConfigCompiler {
    static final String RESOURCE_NAME = "aimesh";

    private FilterConfigCompiler() {
    }

    /**
     * @param resolved each pool's endpoints as ip:port, resolved as in EDS
     */
    static FilterConfig compile(PolicySet policies, Map<String, List<String>> resolved) {
        FilterConfig.Builder config = FilterConfig.newBuilder();
        TreeSet<String> clientHeaders = new TreeSet<>();
        for (InferencePool pool : policies.pools()) {
            if (pool.balancing().mode() == Balancing.Mode.PICKER) {
                config.addPools(pool(pool, resolved.get(pool.name())));
            }
        }
        for (ModelRoute route : policies.routes()) {
            Model.Builder model = Model.newBuilder()
                    .setName(route.model())
                    .setTokenizer(route.tokenizer())
                    .setDefaultMaxTokens(route.defaultMaxTokens());
            if (route.pricing() != null) {
                model.setPricing(pricing(route.pricing()));
            }
            if (!policies.filterRouted(route)) {
                route.versions().forEach(version -> model.putSplitPools(version.pool(), version.name()));
            }
            if (policies.filterRouted(route)) {
                for (ModelVersion version : route.versions()) {
                    Version.Builder routed = Version.newBuilder().setName(version.name()).setPool(version.pool())
                            .setWeight(version.weight())
                            .addAllDedicatedTenants(new TreeSet<>(policies.pool(version.pool()).dedicatedTenants()));
                    if (version.pricing() != null) {
                        routed.setPricing(pricing(version.pricing()));
                    }
                    model.addVersions(routed);
                }
                for (HeaderOverride override : route.overrides()) {
                    model.addOverrides(VersionOverride.newBuilder().setHeader(override.header()).setValue(override.value())
                            .setVersion(override.version()));
                }
                if (route.stickiness() != null) {
                    model.setStickiness(stickiness(route.stickiness()));
                    if (route.stickiness().by() == ModelRoute.Stickiness.By.HEADER) {
                        clientHeaders.add(route.stickiness().name());
                    }
                }
                if (route.mirror() != null) {
                    model.setMirror(mirror(route, policies, resolved));
                }
            }
            if (route.coalesce() != null) {
                io.aimesh.filter.api.Coalesce.Builder coalesce = io.aimesh.filter.api.Coalesce.newBuilder()
                        .setMaxBatch(route.coalesce().maxBatch())
                        .setMaxInFlight(route.coalesce().maxInFlight());
                for (ModelVersion version : route.versions()) {
                    InferencePool pool = policies.pool(version.pool());
                    if (version.weight() > 0 && !pool.dedicated()) {
                        for (String endpoint : resolved.get(version.pool())) {
                            coalesce.addTargets(io.aimesh.filter.api.CoalesceTarget.newBuilder().setEndpoint(endpoint)
                                    .setWeight(version.weight()));
                        }
                    }
                }
                model.setCoalesce(coalesce);
            }
            config.addModels(model);
            for (HeaderOverride override : route.overrides()) {
                clientHeaders.add(override.header());
            }
        }
        for (io.aimesh.policy.Tenant tenant : policies.tenants()) {
            config.addTenants(tenant(tenant));
        }
        for (io.aimesh.policy.Team team : policies.teams()) {
            config.addTeams(io.aimesh.filter.api.Team.newBuilder().setName(team.name())
                    .setOrganization(team.organization() == null ? "" : team.organization())
                    .addAllBudgets(budgets(team.budgets())));
        }
        for (io.aimesh.policy.Organization organization : policies.organizations()) {
            config.addOrganizations(io.aimesh.filter.api.Organization.newBuilder().setName(organization.name())
                    .addAllBudgets(budgets(organization.budgets())));
        }
        FilterSettings filter = policies.gateway() == null ? null : policies.gateway().filter();
        Settings.Builder settings = Settings.newBuilder()
                .setMaxRequestBytes(filter == null ? 1 << 20 : filter.maxRequestBytes())
                .setStreamOverrun(filter != null && filter.cutOverrunningStreams()
                        ? StreamOverrun.STREAM_OVERRUN_CUT : StreamOverrun.STREAM_OVERRUN_FINISH)
                .addAllClientHeaders(clientHeaders)
                .setMessageTimeoutMs(filter == null ? 200 : (int) filter.messageTimeout().toMillis())
                .setCurrency(policies.gateway() == null ? "USD" : policies.gateway().currency());
        Gateway.Identity identity = policies.gateway() == null ? Gateway.Identity.NONE : policies.gateway().identity();
        if (identity.jwt() != null) {
            settings.setJwtTenantClaim(identity.jwt().tenantClaim());
        }
        settings.setTrustedHop(identity.trustedHop());
        Gateway.GlobalLimits global = policies.gateway() == null ? null : policies.gateway().globalLimits();
        if (global != null) {
            settings.setGlobalLimits(io.aimesh.filter.api.GlobalLimits.newBuilder()
                    .setRedis(global.redis())
                    .setLeaseTokens(global.leaseTokens())
                    .setSyncIntervalMs((int) global.syncInterval().toMillis())
                    .setFailOpen(global.failOpen())
                    .setFailOpenTokens(global.failOpenTokens())
                    .setTimeoutMs((int) global.timeout().toMillis())
                    .setSpendLeaseMicros(global.spendLeaseMicros()));
        }
        if (policies.gateway() != null) {
            for (Gateway.Plugin plugin : policies.gateway().plugins()) {
                config.addPlugins(io.aimesh.filter.api.WasmPluginConfig.newBuilder().setName(plugin.name()).setFile(plugin.file())
                        .setSha256(plugin.sha256()).setConfiguration(plugin.configuration()).setFailOpen(plugin.failOpen())
                        .addAllTenants(plugin.tenants()).setTimeoutMs((int) plugin.timeout().toMillis())
                        .addAllModels(plugin.models()).addAllPhases(new java.util.TreeSet<>(plugin.phases()))
                        .setMemoryLimitBytes(plugin.memoryBytes()));
            }
        }
        return config.setSettings(settings).build();
    }

    private static io.aimesh.filter.api.Pricing pricing(io.aimesh.policy.Pricing pricing) {
        return io.aimesh.filter.api.Pricing.newBuilder().setInputMicros(pricing.inputMicros())
                .setCachedInputMicros(pricing.cachedInputMicros()).setOutputMicros(pricing.outputMicros()).build();
    }

    private static List<io.aimesh.filter.api.SpendBudget> budgets(List<io.aimesh.policy.SpendBudget> budgets) {
        return budgets.stream().map(b -> io.aimesh.filter.api.SpendBudget.newBuilder()
                .setAmountMicros(b.amountMicros())
                .setPeriod(switch (b.period()) {
                    case DAY -> io.aimesh.filter.api.SpendPeriod.SPEND_PERIOD_DAY;
                    case WEEK -> io.aimesh.filter.api.SpendPeriod.SPEND_PERIOD_WEEK;
                    case MONTH -> io.aimesh.filter.api.SpendPeriod.SPEND_PERIOD_MONTH;
                    case ROLLING_30D -> io.aimesh.filter.api.SpendPeriod.SPEND_PERIOD_ROLLING_30D;
                })
                .setTimeZone(b.zone().getId())
                .addAllAlertPercents(b.alertPercents())
                .build()).toList();
    }

    private static Stickiness stickiness(ModelRoute.Stickiness sticky) {
        Stickiness.Builder out = Stickiness.newBuilder().setBy(switch (sticky.by()) {
            case TENANT -> Stickiness.By.BY_TENANT;
            case HEADER -> Stickiness.By.BY_HEADER;
            case JWT_CLAIM -> Stickiness.By.BY_JWT_CLAIM;
        });
        if (sticky.name() != null) {
            out.setName(sticky.name());
        }
        return out.build();
    }

    /** The route's mirror; the endpoints of its version's pool unless the filter picks in it. */
    private static Mirror mirror(ModelRoute route, PolicySet policies, Map<String, List<String>> resolved) {
        ModelVersion version = route.version(route.mirror().version());
        Mirror.Builder mirror = Mirror.newBuilder()
                .setVersion(version.name())
                .setPercent(route.mirror().percent())
                .setMaxInFlight(route.mirror().maxInFlight())
                .setTimeoutMs((int) Math.min(Integer.MAX_VALUE, route.timeout().toMillis()));
        if (policies.pool(version.pool()).balancing().mode() != Balancing.Mode.PICKER) {
            mirror.addAllEndpoints(resolved.get(version.pool()));
        }
        return mirror.build();
    }

    private static Pool pool(InferencePool pool, List<String> endpoints) {
        Balancing balancing = pool.balancing();
        Balancing.Scorers scorers = balancing.scorers();
        return Pool.newBuilder()
                .setName(pool.name())
                .addAllEndpoints(endpoints)
                .setMetricsPath(balancing.metricsPath())
                .setMetricsIntervalMs((int) balancing.metricsInterval().toMillis())
                .setScorers(Scorers.newBuilder().setQueue(scorers.queue()).setKvCache(scorers.kvCache())
                        .setInFlight(scorers.inFlight()).setPrefixAffinity(scorers.prefixAffinity())
                        .setLoraAffinity(scorers.loraAffinity()))
                .setMaxQueue(balancing.maxQueue())
                .setMaxKvCachePercent(balancing.maxKvCachePercent())
                .setMaxInFlight(balancing.maxInFlight())
                .setRetryAfterSeconds((int) balancing.retryAfter().toSeconds())
                .setQueueWhenSaturated(balancing.queueWhenSaturated())
                .setQueueSize(balancing.queueSize())
                .setQueueTimeoutMs((int) balancing.queueTimeout().toMillis())
                .build();
    }

    private static Tenant tenant(io.aimesh.policy.Tenant tenant) {
        Tenant.Builder out = Tenant.newBuilder()
                .setName(tenant.name())
                .addAllApiKeySha256(tenant.apiKeySha256())
                .addAllAllowedModels(tenant.allowedModels())
                .setPriority(priority(tenant.priority()))
                .setShare(tenant.share())
                .setRequestsPerMinute(tenant.requestsPerMinute());
        if (tenant.jwtClaim() != null) {
            out.setJwtClaim(tenant.jwtClaim());
        }
        tenant.modelPriorities().forEach((model, priority) -> out.putModelPriorities(model, priority(priority)));
        if (tenant.team() != null) {
            out.setTeam(tenant.team());
        }
        out.addAllBudgets(budgets(tenant.budgets()));
        for (io.aimesh.policy.Tenant.KeyBudgets key : tenant.keyBudgets()) {
            out.addKeyBudgets(io.aimesh.filter.api.KeyBudgets.newBuilder().setApiKeySha256(key.sha256()).setName(key.name())
                    .addAllBudgets(budgets(key.budgets())));
        }
        if (tenant.trustedHeader() != null) {
            out.setTrustedHeader(HeaderMatch.newBuilder()
                    .setName(tenant.trustedHeader().name())
                    .setValue(tenant.trustedHeader().value()));
        }
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (int i = 0; i < tenant.limits().size(); i++) {
            TokenLimit limit = tenant.limits().get(i);
            int input = switch (limit.count()) {
                case INPUT, TOTAL -> 1;
                case OUTPUT -> 0;
                case WEIGHTED -> limit.inputWeight();
            };
            int output = switch (limit.count()) {
                case OUTPUT, TOTAL -> 1;
                case INPUT -> 0;
                case WEIGHTED -> limit.outputWeight();
            };
            out.addLimits(Limit.newBuilder()
                    .setId(limitId(limit, ids))
                    .addAllModels(limit.models())
                    .setWindowSeconds((int) limit.window().toSeconds())
                    .setTokens(limit.tokens())
                    .setInputWeight(input)
                    .setOutputWeight(output)
                    .setBurst(limit.burst()));
        }
        return out.build();
    }

    /**
     * A limit's name, {@code MODELS:tokens-per-WINDOW:COUNT} (models joined by {@code +}, {@code *}
     * for all), e.g. {@code llama:tokens-per-minute:total}: what refusals name (the filter adds the
     * tenant) and what budgets are keyed by, so it stays the same when limits are reordered or
     * added. A second limit of the same shape in the tenant gets {@code #2}, and so on.
     */
    static String limitId(TokenLimit limit, java.util.Set<String> taken) {
        long seconds = limit.window().toSeconds();
        String window = seconds == 60 ? "minute" : seconds == 3_600 ? "hour" : seconds == 86_400 ? "day" : seconds + "s";
        String base = String.join("+", limit.models()) + ":tokens-per-" + window + ":"
                + limit.count().name().toLowerCase(java.util.Locale.ROOT);
        String id = base;
        for (int n = 2; !taken.add(id); n++) {
            id = base + "#" + n;
        }
        return id;
    }

    private static Priority priority(io.aimesh.policy.Tenant.Priority priority) {
        return switch (priority) {
            case CRITICAL -> Priority.PRIORITY_CRITICAL;
            case STANDARD -> Priority.PRIORITY_STANDARD;
            case SHEDDABLE -> Priority.PRIORITY_SHEDDABLE;
        };
    }
}
