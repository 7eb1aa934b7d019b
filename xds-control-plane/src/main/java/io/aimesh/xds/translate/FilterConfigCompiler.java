package io.aimesh.xds.translate;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.HeaderMatch;
import io.aimesh.filter.api.Limit;
import io.aimesh.filter.api.Model;
import io.aimesh.filter.api.Pool;
import io.aimesh.filter.api.Priority;
import io.aimesh.filter.api.Scorers;
import io.aimesh.filter.api.Settings;
import io.aimesh.filter.api.StreamOverrun;
import io.aimesh.filter.api.Tenant;
import io.aimesh.filter.api.Version;
import io.aimesh.filter.api.VersionOverride;
import io.aimesh.policy.Balancing;
import io.aimesh.policy.FilterSettings;
import io.aimesh.policy.HeaderOverride;
import io.aimesh.policy.InferencePool;
import io.aimesh.policy.ModelRoute;
import io.aimesh.policy.ModelVersion;
import io.aimesh.policy.PolicySet;
import io.aimesh.policy.TokenLimit;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
        Set<String> pickerPools = new HashSet<>();
        for (InferencePool pool : policies.pools()) {
            if (pool.balancing().mode() == Balancing.Mode.PICKER) {
                pickerPools.add(pool.name());
                config.addPools(pool(pool, resolved.get(pool.name())));
            }
        }
        for (ModelRoute route : policies.routes()) {
            Model.Builder model = Model.newBuilder()
                    .setName(route.model())
                    .setTokenizer(route.tokenizer())
                    .setDefaultMaxTokens(route.defaultMaxTokens());
            if (route.versions().stream().anyMatch(version -> pickerPools.contains(version.pool()))) {
                for (ModelVersion version : route.versions()) {
                    model.addVersions(Version.newBuilder().setName(version.name()).setPool(version.pool())
                            .setWeight(version.weight()));
                }
                for (HeaderOverride override : route.overrides()) {
                    model.addOverrides(VersionOverride.newBuilder().setHeader(override.header()).setValue(override.value())
                            .setVersion(override.version()));
                }
            }
            config.addModels(model);
            for (HeaderOverride override : route.overrides()) {
                clientHeaders.add(override.header());
            }
        }
        for (io.aimesh.policy.Tenant tenant : policies.tenants()) {
            config.addTenants(tenant(tenant));
        }
        FilterSettings filter = policies.gateway() == null ? null : policies.gateway().filter();
        Settings.Builder settings = Settings.newBuilder()
                .setMaxRequestBytes(filter == null ? 1 << 20 : filter.maxRequestBytes())
                .setStreamOverrun(filter != null && filter.cutOverrunningStreams()
                        ? StreamOverrun.STREAM_OVERRUN_CUT : StreamOverrun.STREAM_OVERRUN_FINISH)
                .addAllClientHeaders(clientHeaders)
                .setMessageTimeoutMs(filter == null ? 200 : (int) filter.messageTimeout().toMillis());
        return config.setSettings(settings).build();
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
                .setPriority(switch (tenant.priority()) {
                    case CRITICAL -> Priority.PRIORITY_CRITICAL;
                    case STANDARD -> Priority.PRIORITY_STANDARD;
                    case SHEDDABLE -> Priority.PRIORITY_SHEDDABLE;
                })
                .setRequestsPerMinute(tenant.requestsPerMinute());
        if (tenant.trustedHeader() != null) {
            out.setTrustedHeader(HeaderMatch.newBuilder()
                    .setName(tenant.trustedHeader().name())
                    .setValue(tenant.trustedHeader().value()));
        }
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
                    .setId(Integer.toString(i))
                    .addAllModels(limit.models())
                    .setWindowSeconds((int) limit.window().toSeconds())
                    .setTokens(limit.tokens())
                    .setInputWeight(input)
                    .setOutputWeight(output)
                    .setBurst(limit.burst()));
        }
        return out.build();
    }
}
