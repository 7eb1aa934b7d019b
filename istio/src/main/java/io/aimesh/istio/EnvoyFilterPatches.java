package io.aimesh.istio;

import io.aimesh.policy.FilterSettings;
import io.aimesh.policy.Gateway;
import io.aimesh.xds.translate.AiFilterChain;
import io.aimesh.xds.translate.TranslationException;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.HeadersWithUnderscoresAction;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterApplyTo;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterClusterMatch;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterEnvoyConfigObjectMatch;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterEnvoyConfigObjectMatchCluster;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterEnvoyConfigObjectMatchListener;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterEnvoyConfigObjectPatch;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterListenerMatch;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterListenerMatchFilterChainMatch;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterListenerMatchFilterMatch;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterListenerMatchSubFilterMatch;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterPatch;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterPatchContext;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterPatchOperation;
import io.fabric8.istio.api.api.networking.v1alpha3.WorkloadSelector;
import io.fabric8.istio.api.networking.v1alpha3.EnvoyFilter;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The EnvoyFilters that put the ai-filter into Istio's proxies: the same filters, in the same
 * order and with the same settings as on the control plane's own path ({@link AiFilterChain}).
 *
 * <p>Shapes chosen to survive Istio upgrades (istio #37415, #38214, #52673):
 * <ul>
 *   <li>Every insertion is anchored on Envoy's router or on the chain's start ({@code INSERT_FIRST}),
 *       never on another extension's filter, whose name Istio may change; the router is in every
 *       HTTP chain, so the anchor cannot be missing (Istio skips a patch whose anchor is missing,
 *       silently).</li>
 *   <li>Each EnvoyFilter carries a {@code priority} (analyzer IST0151): relative patches are applied
 *       in a defined order against Istio's own, and no {@code proxyVersion} match (IST0155).</li>
 *   <li>The ai-filter gets a cluster of its own ({@code CLUSTER ADD}), not a reference to an Istio
 *       {@code outbound|...} cluster name, which changes with the Service's port and subsets.</li>
 * </ul>
 * With {@code ecds}, the ext_proc filter's settings are an {@code EXTENSION_CONFIG} of their own, in a
 * second EnvoyFilter: istiod sends a change of it by ECDS alone, and the listeners (and their
 * connections) stay as they are.
 */
final class EnvoyFilterPatches {
    /** Before Istio's own patches (priority 0) and any a user adds at 0: ours insert relative to the router alone. */
    static final int PRIORITY = -10;
    /** The ECDS name of the ai-filter's ext_proc config. */
    static final String EXTENSION_NAME = "aimesh.ai_filter";
    static final String HCM = "envoy.filters.network.http_connection_manager";
    static final String EXT_PROC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor";

    private EnvoyFilterPatches() {
    }

    static List<EnvoyFilter> render(Gateway gateway, RenderOptions options, List<PoolHosts.Target> pickedTargets)
            throws TranslationException {
        FilterSettings filter = gateway.filter();
        FilterSettings reached = options.aiFilter() == null ? filter
                : new FilterSettings(options.aiFilter(), filter.failOpen(), filter.messageTimeout(), filter.maxRequestBytes(),
                        filter.cutOverrunningStreams());
        EnvoyFilterPatchContext context = options.mode() == RenderOptions.Mode.GATEWAY
                ? EnvoyFilterPatchContext.GATEWAY : EnvoyFilterPatchContext.SIDECAR_INBOUND;
        // Clusters are the proxy's upstreams: a sidecar's are in its outbound context (istiod adds a
        // cluster ADD patch only there and for gateways).
        EnvoyFilterPatchContext clusterContext = options.mode() == RenderOptions.Mode.GATEWAY
                ? EnvoyFilterPatchContext.GATEWAY : EnvoyFilterPatchContext.SIDECAR_OUTBOUND;
        boolean jwt = gateway.identity().jwt() != null;

        List<EnvoyFilterEnvoyConfigObjectPatch> patches = new ArrayList<>();
        patches.add(httpFilter(context, EnvoyFilterPatchOperation.INSERT_FIRST,
                named(AiFilterChain.STRIP_FILTER, ProtoJson.typed(AiFilterChain.stripInternalHeaders()))));
        if (jwt) {
            patches.add(httpFilter(context, EnvoyFilterPatchOperation.INSERT_BEFORE,
                    named(AiFilterChain.JWT_FILTER, ProtoJson.typed(AiFilterChain.jwtAuthn(gateway.identity().jwt())))));
        }
        if (options.ecds()) {
            Map<String, Object> discovery = new LinkedHashMap<>();
            discovery.put("config_source", Map.of("ads", Map.of()));
            discovery.put("type_urls", List.of(EXT_PROC_TYPE));
            Map<String, Object> value = new LinkedHashMap<>();
            value.put("name", EXTENSION_NAME);
            value.put("config_discovery", discovery);
            patches.add(httpFilter(context, EnvoyFilterPatchOperation.INSERT_BEFORE, value));
        } else {
            patches.add(httpFilter(context, EnvoyFilterPatchOperation.INSERT_BEFORE,
                    named(AiFilterChain.EXT_PROC_FILTER, ProtoJson.typed(AiFilterChain.extProc(reached, jwt, gateway.pluginsSeeResponseHeaders())))));
        }
        // No json_to_metadata: Istio's routes match headers, never dynamic metadata, so Envoy parsing
        // every body for the model would be work nothing reads (1.8 ms of Envoy CPU at 220 KiB).
        patches.add(httpFilter(context, EnvoyFilterPatchOperation.INSERT_BEFORE,
                named(AiFilterChain.UPSTREAM_HEADERS_FILTER, ProtoJson.typed(AiFilterChain.upstreamHeaders()))));
        patches.add(connectionManagerSettings(context));
        patches.add(patch(EnvoyFilterApplyTo.LISTENER, listenerMatch(context, null),
                EnvoyFilterPatchOperation.MERGE, Map.of("per_connection_buffer_limit_bytes", AiFilterChain.bufferLimit(filter))));
        patches.add(patch(EnvoyFilterApplyTo.CLUSTER, clusterMatch(clusterContext, null), EnvoyFilterPatchOperation.ADD,
                ProtoJson.of(AiFilterChain.filterCluster(reached.address(), Duration.ofMillis(250)))));
        for (PoolHosts.Target target : pickedTargets) {
            EnvoyFilterClusterMatch cluster = new EnvoyFilterClusterMatch();
            cluster.setService(target.host());
            cluster.setSubset(target.subset());
            cluster.setPortNumber((long) target.port());
            patches.add(patch(EnvoyFilterApplyTo.CLUSTER, clusterMatch(clusterContext, cluster), EnvoyFilterPatchOperation.MERGE,
                    Map.of("load_balancing_policy", ProtoJson.of(AiFilterChain.pickedEndpointPolicy()))));
        }

        List<EnvoyFilter> filters = new ArrayList<>();
        filters.add(envoyFilter(options.ecds() ? "aimesh-ai-filter-chain" : "aimesh-ai-filter", options, patches));
        if (options.ecds()) {
            Map<String, Object> extension = new LinkedHashMap<>();
            extension.put("name", EXTENSION_NAME);
            extension.put("typed_config", ProtoJson.typed(AiFilterChain.extProc(reached, jwt, gateway.pluginsSeeResponseHeaders())));
            filters.add(envoyFilter("aimesh-ai-filter-config", options, List.of(
                    patch(EnvoyFilterApplyTo.EXTENSION_CONFIG, null, EnvoyFilterPatchOperation.ADD, extension))));
        }
        return filters;
    }

    /**
     * Envoy's own protections on the connection manager Istio generates: headers spelled with
     * underscores are dropped (CGI backends would read {@code x_aimesh_pool} as {@code x-aimesh-pool}),
     * and an escaped slash in the path is refused rather than passed to a backend that decodes it.
     */
    private static EnvoyFilterEnvoyConfigObjectPatch connectionManagerSettings(EnvoyFilterPatchContext context) {
        HttpConnectionManager settings = HttpConnectionManager.newBuilder()
                .setCommonHttpProtocolOptions(io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.newBuilder()
                        .setHeadersWithUnderscoresAction(HeadersWithUnderscoresAction.DROP_HEADER))
                .setPathWithEscapedSlashesAction(HttpConnectionManager.PathWithEscapedSlashesAction.REJECT_REQUEST)
                .setMergeSlashes(true)
                .build();
        EnvoyFilterListenerMatchFilterMatch hcm = new EnvoyFilterListenerMatchFilterMatch();
        hcm.setName(HCM);
        return patch(EnvoyFilterApplyTo.NETWORK_FILTER, listenerMatch(context, hcm), EnvoyFilterPatchOperation.MERGE,
                Map.of("name", HCM, "typed_config", ProtoJson.typed(settings)));
    }

    private static EnvoyFilter envoyFilter(String name, RenderOptions options, List<EnvoyFilterEnvoyConfigObjectPatch> patches) {
        io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilter spec = new io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilter();
        spec.setPriority(PRIORITY);
        spec.setConfigPatches(patches);
        Map<String, String> labels = options.mode() == RenderOptions.Mode.GATEWAY ? options.gatewaySelector() : options.selector();
        if (!labels.isEmpty()) {
            WorkloadSelector selector = new WorkloadSelector();
            selector.setLabels(new LinkedHashMap<>(labels));
            spec.setWorkloadSelector(selector);
        }
        EnvoyFilter resource = new EnvoyFilter();
        resource.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(options.envoyFilterNamespace())
                .withLabels(IstioRenderer.LABELS).build());
        resource.setSpec(spec);
        return resource;
    }

    /** An HTTP filter patch in the HTTP connection manager, relative to the router (or first). */
    private static EnvoyFilterEnvoyConfigObjectPatch httpFilter(EnvoyFilterPatchContext context, EnvoyFilterPatchOperation operation,
                                                               Map<String, Object> value) {
        EnvoyFilterListenerMatchFilterMatch hcm = new EnvoyFilterListenerMatchFilterMatch();
        hcm.setName(HCM);
        if (operation != EnvoyFilterPatchOperation.INSERT_FIRST) {
            hcm.setSubFilter(new EnvoyFilterListenerMatchSubFilterMatch(AiFilterChain.ROUTER_FILTER));
        }
        return patch(EnvoyFilterApplyTo.HTTP_FILTER, listenerMatch(context, hcm), operation, value);
    }

    private static EnvoyFilterEnvoyConfigObjectMatch listenerMatch(EnvoyFilterPatchContext context,
                                                                   EnvoyFilterListenerMatchFilterMatch filter) {
        EnvoyFilterListenerMatch listener = new EnvoyFilterListenerMatch();
        if (filter != null) {
            EnvoyFilterListenerMatchFilterChainMatch chain = new EnvoyFilterListenerMatchFilterChainMatch();
            chain.setFilter(filter);
            listener.setFilterChain(chain);
        }
        EnvoyFilterEnvoyConfigObjectMatch match = new EnvoyFilterEnvoyConfigObjectMatch();
        match.setContext(context);
        match.setObjectTypes(new EnvoyFilterEnvoyConfigObjectMatchListener(listener));
        return match;
    }

    private static EnvoyFilterEnvoyConfigObjectMatch clusterMatch(EnvoyFilterPatchContext context, EnvoyFilterClusterMatch cluster) {
        EnvoyFilterEnvoyConfigObjectMatch match = new EnvoyFilterEnvoyConfigObjectMatch();
        match.setContext(context);
        if (cluster != null) {
            match.setObjectTypes(new EnvoyFilterEnvoyConfigObjectMatchCluster(cluster));
        }
        return match;
    }

    private static EnvoyFilterEnvoyConfigObjectPatch patch(EnvoyFilterApplyTo applyTo, EnvoyFilterEnvoyConfigObjectMatch match,
                                                           EnvoyFilterPatchOperation operation, Map<String, Object> value) {
        EnvoyFilterPatch patch = new EnvoyFilterPatch();
        patch.setOperation(operation);
        patch.setValue(value);
        EnvoyFilterEnvoyConfigObjectPatch configPatch = new EnvoyFilterEnvoyConfigObjectPatch();
        configPatch.setApplyTo(applyTo);
        configPatch.setMatch(match);
        configPatch.setPatch(patch);
        return configPatch;
    }

    private static Map<String, Object> named(String name, Map<String, Object> typedConfig) {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("name", name);
        value.put("typed_config", typedConfig);
        return value;
    }
}
