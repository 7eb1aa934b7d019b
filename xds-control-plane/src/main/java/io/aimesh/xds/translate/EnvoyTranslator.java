package io.aimesh.xds.translate;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.JsonFormat;
import com.github.xds.type.v3.TypedStruct;
import io.aimesh.filter.api.WireContract;
import io.aimesh.policy.Balancing;
import io.aimesh.policy.Endpoint;
import io.aimesh.policy.FilterSettings;
import io.aimesh.policy.Gateway;
import io.aimesh.policy.HeaderOverride;
import io.aimesh.policy.InferencePool;
import io.aimesh.policy.ModelRoute;
import io.aimesh.policy.ModelVersion;
import io.aimesh.policy.PolicySet;
import io.aimesh.xds.snapshot.ResourceType;
import io.aimesh.xds.snapshot.XdsResource;
import io.aimesh.xds.snapshot.XdsSnapshot;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.LoadBalancingPolicy;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.header_mutation.v3.HeaderMutation;
import io.envoyproxy.envoy.extensions.filters.http.header_mutation.v3.Mutations;
import io.envoyproxy.envoy.extensions.filters.http.json_to_metadata.v3.JsonToMetadata;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3.ClientSideWeightedRoundRobin;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles a {@link PolicySet} into the Envoy resources every node receives: one HTTP
 * listener, one route table that matches the model, a cluster and an endpoint assignment
 * per {@link InferencePool}, the ai-filter's cluster when a Gateway puts it in the path, and
 * the filter's own configuration. Knows nothing of streams; stateless and thread-safe.
 *
 * <p>Routing by model takes two routes per model, tried in order: one on the
 * {@code x-aimesh-model} header the ai-filter sets after reading the body, and one on the
 * model Envoy's own {@code json_to_metadata} filter extracts from the body. The second keeps
 * body-based routing working with no filter, or with a fail-open filter that is down; with a
 * filter that fails closed every request the router sees has been through the filter, so neither
 * the second route nor {@code json_to_metadata} is there: Envoy then never parses a body itself
 * (measured: about 1.8 ms of Envoy CPU per 220 KiB request). A client cannot choose the route by
 * sending {@code x-aimesh-model}: the header is internal only, and Envoy removes it from every
 * request before any filter runs.
 *
 * <p>Trust (SECURITY.md): Envoy takes the client's address from the connection alone, trusts no
 * address as internal unless the Gateway names it in {@code trustedCidrs} (so a client's
 * {@code x-envoy-*} control headers are dropped), removes every {@link WireContract#INTERNAL_HEADERS}
 * name in its first filter and drops headers spelled with underscores. Only {@code POST} on the
 * inference paths reaches a pool; Envoy answers any other method there with 405 itself. The API
 * key is removed before a request goes upstream.
 */
public final class EnvoyTranslator {
    public static final String LISTENER_NAME = "aimesh_http";
    public static final String ROUTE_CONFIG_NAME = "aimesh_routes";
    /** The cluster of the ai-filter's ext_proc server. */
    public static final String FILTER_CLUSTER = "aimesh_filter";
    /** The first HTTP filter: removes the internal headers from every request, before any other filter sees it. */
    static final String STRIP_FILTER = "aimesh.strip_internal_headers";
    /** Headers that carry a client's credential: the model servers never need it. */
    static final List<String> CREDENTIAL_HEADERS = List.of("authorization");
    /**
     * Response headers the ai-filter computes at admission: OpenAI's rate-limit headers, and the
     * decision (which rule admitted and routed the request).
     */
    static final List<String> FILTER_RESPONSE_HEADERS = List.of("x-aimesh-decision", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
            "x-ratelimit-reset-tokens", "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests", WireContract.BUDGET_REMAINING_HEADER, WireContract.BUDGET_RESET_HEADER);
    /**
     * The paths routed to models: the OpenAI APIs the ai-filter understands (it identifies the
     * tenant, checks the model and counts tokens on these). Any other path, whatever its body says,
     * gets the 404 route: a model reached by another API would bypass tenants and budgets. Envoy
     * matches without the query string.
     */
    static final io.envoyproxy.envoy.type.matcher.v3.RegexMatcher INFERENCE_PATHS =
            io.envoyproxy.envoy.type.matcher.v3.RegexMatcher.newBuilder()
                    .setRegex("/v1/(chat/completions|completions|embeddings)").build();
    static final String MODEL_NOT_FOUND = "{\"error\":{\"message\":\"The model does not exist or no route serves it.\","
            + "\"type\":\"invalid_request_error\",\"param\":\"model\",\"code\":\"model_not_found\"}}";
    static final String METHOD_NOT_ALLOWED = "{\"error\":{\"message\":\"Only POST is allowed on this path.\","
            + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"method_not_allowed\"}}";

    private final String listenAddress;
    private final int listenPort;

    /**
     * @param listenAddress the IP Envoy's listener binds, e.g. {@code 0.0.0.0}
     * @param listenPort the listener's port, 1..65535
     */
    public EnvoyTranslator(String listenAddress, int listenPort) {
        this.listenAddress = requireNonNull(listenAddress, "listenAddress");
        if (listenPort < 1 || listenPort > 65535) {
            throw new IllegalArgumentException("listenPort: " + listenPort + " (expected: 1..65535)");
        }
        this.listenPort = listenPort;
    }

    /** The cluster name for a pool. */
    public static String clusterName(String pool) {
        return WireContract.POOL_CLUSTER_PREFIX + pool;
    }

    /**
     * Compiles {@code policies}. Endpoint host names are resolved here, because EDS carries IP addresses only.
     *
     * @throws TranslationException when an endpoint host cannot be resolved
     */
    public XdsSnapshot translate(PolicySet policies) throws TranslationException {
        return translate(policies, EndpointWeights.NONE);
    }

    /**
     * As {@link #translate(PolicySet)}, with {@code weights} as the endpoints' EDS
     * {@code load_balancing_weight} (the pools whose {@code balancing.mode} is {@code eds-weights}).
     */
    public XdsSnapshot translate(PolicySet policies, EndpointWeights weights) throws TranslationException {
        requireNonNull(policies, "policies");
        requireNonNull(weights, "weights");
        Map<ResourceType, List<XdsResource>> resources = new EnumMap<>(ResourceType.class);
        List<XdsResource> clusters = new ArrayList<>();
        List<XdsResource> endpoints = new ArrayList<>();
        FilterSettings filter = policies.gateway() == null ? null : policies.gateway().filter();
        Map<String, List<String>> resolved = new HashMap<>();
        for (InferencePool pool : policies.pools()) {
            clusters.add(XdsResource.of(clusterName(pool.name()), cluster(pool)));
            ClusterLoadAssignment assignment = loadAssignment(pool, weights);
            endpoints.add(XdsResource.of(clusterName(pool.name()), assignment));
            resolved.put(pool.name(), assignment.getEndpoints(0).getLbEndpointsList().stream()
                    .map(endpoint -> endpoint.getEndpoint().getAddress().getSocketAddress())
                    .map(address -> authority(address.getAddress(), address.getPortValue()))
                    .distinct() // two host names may resolve to one address; the filter wants each once
                    .toList());
        }
        if (filter != null) {
            clusters.add(XdsResource.of(FILTER_CLUSTER, filterCluster(filter)));
        }
        resources.put(ResourceType.CLUSTER, clusters);
        resources.put(ResourceType.ENDPOINT, endpoints);
        Gateway.Identity identity = policies.gateway() == null ? Gateway.Identity.NONE : policies.gateway().identity();
        if (identity.jwt() != null) {
            JwtConfig.checkKeyFile(identity.jwt());
        }
        List<String> trustedCidrs = policies.gateway() == null ? List.of() : policies.gateway().trustedCidrs();
        resources.put(ResourceType.LISTENER, List.of(XdsResource.of(LISTENER_NAME, listener(filter, identity, trustedCidrs,
                policies.gateway() != null && policies.gateway().pluginsSeeResponseHeaders()))));
        resources.put(ResourceType.ROUTE, List.of(XdsResource.of(ROUTE_CONFIG_NAME, routes(policies, filter != null))));
        resources.put(ResourceType.FILTER, List.of(XdsResource.of(FilterConfigCompiler.RESOURCE_NAME,
                FilterConfigCompiler.compile(policies, resolved))));
        return XdsSnapshot.of(resources);
    }

    private static ConfigSource ads() {
        return ConfigSource.newBuilder()
                .setAds(AggregatedConfigSource.getDefaultInstance())
                .setResourceApiVersion(ApiVersion.V3)
                .build();
    }

    /**
     * The pool's endpoints, balanced by Envoy: in turn, or by least requests. A picker pool's
     * cluster goes to the endpoint the filter picked ({@link #overrideHost}) and balances by least
     * requests the requests it did not pick for (it was down and fails open, or had no healthy
     * endpoint to offer).
     */
    private static Cluster cluster(InferencePool pool) {
        String name = clusterName(pool.name());
        Cluster.Builder cluster = Cluster.newBuilder()
                .setName(name)
                .setType(Cluster.DiscoveryType.EDS)
                .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ads()).setServiceName(name))
                .setConnectTimeout(Durations.fromNanos(pool.connectTimeout().toNanos()))
                .setCircuitBreakers(poolCircuitBreakers());
        switch (pool.balancing().mode()) {
            // Envoy's round robin is weighted: it honours the EDS weights of eds-weights pools.
            case ROUND_ROBIN, EDS_WEIGHTS -> cluster.setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
            case LEAST_REQUEST -> cluster.setLbPolicy(Cluster.LbPolicy.LEAST_REQUEST);
            case PICKER -> cluster.setLoadBalancingPolicy(overrideHost());
            case ORCA -> cluster.setLoadBalancingPolicy(LoadBalancingPolicy.newBuilder().addPolicies(
                    LoadBalancingPolicy.Policy.newBuilder().setTypedExtensionConfig(TypedExtensionConfig.newBuilder()
                            .setName("envoy.load_balancing_policies.client_side_weighted_round_robin")
                            .setTypedConfig(Any.pack(weightedRoundRobin())))));
        }
        return cluster.build();
    }

    /**
     * Client-side weighted round robin on the endpoints' ORCA reports in response headers. Weights
     * are recomputed every second and used one second after an endpoint's first report (Envoy's
     * default waits 10 s, long for a pool whose load moves in seconds); a report older than the
     * default 3 minutes is dropped, and the endpoint goes back to the mean weight.
     */
    private static ClientSideWeightedRoundRobin weightedRoundRobin() {
        return ClientSideWeightedRoundRobin.newBuilder()
                .setEnableOobLoadReport(BoolValue.of(false))
                .setBlackoutPeriod(Durations.fromSeconds(1))
                .setWeightUpdatePeriod(Durations.fromSeconds(1))
                .build();
    }

    static final String OVERRIDE_HOST_TYPE = "type.googleapis.com/envoy.extensions.load_balancing_policies.override_host.v3.OverrideHost";

    /**
     * Envoy's override-host policy: the endpoint the ai-filter picked, named by
     * {@link WireContract#DESTINATION_HEADER} or the same key in {@link WireContract#LB_NAMESPACE}
     * metadata (where the Gateway API Inference Extension's pickers put it), else least requests.
     * It looks the named address up among the cluster's EDS hosts only: an address that is not a
     * member is never connected to, the request is balanced over the members instead (Envoy's
     * {@code OverrideHostLoadBalancer::chooseHost} falls back when {@code findHost} misses). So the
     * picked path reaches only the pool, whoever set the header; the ORIGINAL_DST cluster it
     * replaces connected to any address the header named.
     *
     * <p>The policy's proto is newer than our Java protos, so it travels as a TypedStruct, which
     * Envoy converts to the type named by its URL.
     */
    static LoadBalancingPolicy overrideHost() {
        String json = """
                {"override_host_sources": [
                   {"header": "%1$s"},
                   {"metadata": {"key": "%2$s", "path": [{"key": "%1$s"}]}}],
                 "fallback_policy": {"policies": [{"typed_extension_config": {
                   "name": "envoy.load_balancing_policies.least_request",
                   "typed_config": {"@type": "type.googleapis.com/envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest"}}}]}}
                """.formatted(WireContract.DESTINATION_HEADER, WireContract.LB_NAMESPACE);
        Struct.Builder value = Struct.newBuilder();
        try {
            JsonFormat.parser().merge(json, value);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("override_host config", e); // a constant: cannot happen
        }
        return LoadBalancingPolicy.newBuilder().addPolicies(LoadBalancingPolicy.Policy.newBuilder()
                        .setTypedExtensionConfig(TypedExtensionConfig.newBuilder()
                                .setName("envoy.load_balancing_policies.override_host")
                                .setTypedConfig(Any.pack(TypedStruct.newBuilder()
                                        .setTypeUrl(OVERRIDE_HOST_TYPE).setValue(value).build()))))
                .build();
    }

    private static CircuitBreakers poolCircuitBreakers() {
        // Inference requests are long and bursty; Envoy's default of 1024 pending requests
        // would turn a queue the model server can absorb into 503s at the proxy.
        return CircuitBreakers.newBuilder().addThresholds(CircuitBreakers.Thresholds.newBuilder()
                        .setMaxConnections(UInt32Value.of(100_000))
                        .setMaxPendingRequests(UInt32Value.of(100_000))
                        .setMaxRequests(UInt32Value.of(100_000)))
                .build();
    }

    private static ClusterLoadAssignment loadAssignment(InferencePool pool, EndpointWeights weights)
            throws TranslationException {
        LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder();
        for (Endpoint endpoint : pool.endpoints()) {
            for (String ip : resolveAll("InferencePool/" + pool.name(), endpoint)) {
                locality.addLbEndpoints(lbEndpoint(ip, endpoint.port(), weights.weight(pool.name(), authority(ip, endpoint.port()))));
            }
        }
        return ClusterLoadAssignment.newBuilder()
                .setClusterName(clusterName(pool.name()))
                .addEndpoints(locality)
                .build();
    }

    private static LbEndpoint.Builder lbEndpoint(String ip, int port, int weight) {
        LbEndpoint.Builder lbEndpoint = LbEndpoint.newBuilder().setEndpoint(
                io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                        .setAddress(Address.newBuilder().setSocketAddress(
                                SocketAddress.newBuilder().setAddress(ip).setPortValue(port))));
        if (weight > 0) {
            lbEndpoint.setLoadBalancingWeight(UInt32Value.of(weight));
        }
        return lbEndpoint;
    }

    /** {@code ip:port}, an IPv6 address in brackets. */
    public static String authority(String ip, int port) {
        return (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + port;
    }

    /**
     * Every address of the endpoint's host in the family of its first answer: an IP literal is itself,
     * and a name that stands for several servers (a Kubernetes headless Service, DNS round robin)
     * becomes one endpoint per address, which the picker can choose among. The family filter keeps
     * {@code localhost} one endpoint (127.0.0.1, not also ::1 where the server may not listen).
     */
    private static List<String> resolveAll(String owner, Endpoint endpoint) throws TranslationException {
        try {
            InetAddress[] all = InetAddress.getAllByName(endpoint.host());
            Class<?> family = all[0].getClass();
            return java.util.Arrays.stream(all).filter(family::isInstance).map(InetAddress::getHostAddress).distinct().toList();
        } catch (UnknownHostException e) {
            throw new TranslationException(owner + ": cannot resolve host '" + endpoint.host() + "'", e);
        }
    }

    private static String resolve(String owner, Endpoint endpoint) throws TranslationException {
        return resolveAll(owner, endpoint).get(0);
    }

    private static Cluster filterCluster(FilterSettings filter) throws TranslationException {
        Endpoint resolved = new Endpoint(resolve("Gateway filter", filter.address()), filter.address().port());
        return AiFilterChain.filterCluster(resolved, java.time.Duration.ofMillis(250));
    }

    private Listener listener(FilterSettings filter, Gateway.Identity identity, List<String> trustedCidrs, boolean responseHeaders) {
        HttpConnectionManager.InternalAddressConfig.Builder internal = HttpConnectionManager.InternalAddressConfig.newBuilder()
                .setUnixSockets(false);
        for (String cidr : trustedCidrs) {
            int slash = cidr.indexOf('/');
            internal.addCidrRanges(CidrRange.newBuilder().setAddressPrefix(cidr.substring(0, slash))
                    .setPrefixLen(UInt32Value.of(Integer.parseInt(cidr.substring(slash + 1)))));
        }
        HttpConnectionManager.Builder hcm = HttpConnectionManager.newBuilder()
                .setStatPrefix("aimesh")
                .setCodecType(HttpConnectionManager.CodecType.AUTO)
                // The client is the peer of the connection, never what its x-forwarded-for claims; and
                // only the Gateway's trusted CIDRs are internal. Envoy removes x-envoy-* control headers
                // (timeouts, retries, tracing) and internal-only headers from every other request.
                .setUseRemoteAddress(BoolValue.of(true))
                .setXffNumTrustedHops(0)
                .setInternalAddressConfig(internal)
                // One spelling per path, before routing and before the filter reads it: "//v1/..." and
                // "/v1/./chat/..." become the inference path and pass the filter like it; an escaped
                // slash (%2F), which a backend might decode into another path, is refused with 400.
                .setNormalizePath(BoolValue.of(true))
                .setMergeSlashes(true)
                .setPathWithEscapedSlashesAction(HttpConnectionManager.PathWithEscapedSlashesAction.REJECT_REQUEST)
                // x_aimesh_pool is not x-aimesh-pool to Envoy, but CGI and WSGI backends map '_' to '-'.
                .setCommonHttpProtocolOptions(io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.newBuilder()
                        .setHeadersWithUnderscoresAction(
                                io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.HeadersWithUnderscoresAction.DROP_HEADER))
                .setRds(Rds.newBuilder().setConfigSource(ads()).setRouteConfigName(ROUTE_CONFIG_NAME));
        hcm.addHttpFilters(HttpFilter.newBuilder()
                .setName(STRIP_FILTER)
                .setTypedConfig(Any.pack(stripInternalHeaders())));
        if (identity.jwt() != null) {
            hcm.addHttpFilters(HttpFilter.newBuilder()
                    .setName(JwtConfig.FILTER_NAME)
                    .setTypedConfig(Any.pack(JwtConfig.of(identity.jwt()))));
        }
        if (filter != null) {
            hcm.addHttpFilters(HttpFilter.newBuilder()
                    .setName(AiFilterChain.EXT_PROC_FILTER)
                    .setTypedConfig(Any.pack(ExtProcConfig.of(filter, identity.jwt() != null, responseHeaders))));
        }
        if (bodyRouting(filter)) {
            hcm.addHttpFilters(HttpFilter.newBuilder()
                    .setName(AiFilterChain.MODEL_TO_METADATA_FILTER)
                    .setTypedConfig(Any.pack(modelToMetadata())));
        }
        hcm.addHttpFilters(HttpFilter.newBuilder()
                .setName("envoy.filters.http.router")
                .setTypedConfig(Any.pack(Router.getDefaultInstance())));
        int bufferLimit = bufferLimit(filter);
        return Listener.newBuilder()
                .setName(LISTENER_NAME)
                .setAddress(Address.newBuilder().setSocketAddress(
                        SocketAddress.newBuilder().setAddress(listenAddress).setPortValue(listenPort)))
                .setPerConnectionBufferLimitBytes(UInt32Value.of(bufferLimit))
                .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(Any.pack(hcm.build()))))
                .build();
    }

    /**
     * Envoy buffers bodies up to this size; above it, it answers 413 itself, in plain text. Kept
     * above the filter's limit, so the filter refuses oversized bodies with OpenAI's error JSON.
     */
    static int bufferLimit(FilterSettings filter) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1 << 20, filter == null ? 0 : filter.maxRequestBytes() + (64 << 10)));
    }

    /**
     * Removes every internal header from the request, whatever its source address: the route table's
     * internal-only headers are removed only from requests Envoy counts as external, and a filter that
     * fails open would pass a client's copy on.
     */
    static HeaderMutation stripInternalHeaders() {
        Mutations.Builder mutations = Mutations.newBuilder();
        for (String header : WireContract.INTERNAL_HEADERS) {
            mutations.addRequestMutations(io.envoyproxy.envoy.config.common.mutation_rules.v3.HeaderMutation.newBuilder()
                    .setRemove(header));
        }
        return HeaderMutation.newBuilder().setMutations(mutations).build();
    }

    /**
     * Whether Envoy routes on the model it reads from the body itself: without the filter, or with
     * one that fails open (a request then reaches the router without the filter's model header when
     * the filter is down).
     */
    static boolean bodyRouting(FilterSettings filter) {
        return filter == null || filter.failOpen();
    }

    static JsonToMetadata modelToMetadata() {
        return JsonToMetadata.newBuilder()
                .setRequestRules(JsonToMetadata.MatchRules.newBuilder()
                        .addRules(JsonToMetadata.Rule.newBuilder()
                                .addSelectors(JsonToMetadata.Selector.newBuilder().setKey("model"))
                                .setOnPresent(JsonToMetadata.KeyValuePair.newBuilder()
                                        .setMetadataNamespace(WireContract.METADATA_NAMESPACE)
                                        .setKey(WireContract.METADATA_MODEL_KEY))))
                .build();
    }

    private static RouteConfiguration routes(PolicySet policies, boolean filtered) {
        // Removed when the router forwards, after the filter has read the key: a model server, or
        // whoever reads its logs, never sees a tenant's credential.
        VirtualHost.Builder host = VirtualHost.newBuilder().setName("aimesh").addDomains("*")
                .addAllRequestHeadersToRemove(CREDENTIAL_HEADERS);
        Map<String, InferencePool> pools = new HashMap<>();
        policies.pools().forEach(pool -> pools.put(pool.name(), pool));
        for (ModelRoute route : policies.routes()) {
            if (filtered && policies.filterRouted(route)) {
                addPoolRoutes(host, route, pools);
            }
            addModelRoutes(host, route, "", modelHeaderMatch(route), pools);
        }
        if (bodyRouting(policies.gateway() == null ? null : policies.gateway().filter())) {
            for (ModelRoute route : policies.routes()) {
                addModelRoutes(host, route, "/body", modelMetadataMatch(route), pools);
            }
        }
        // Any other method on an inference path is the gateway's to refuse: the filter identifies and
        // limits POSTs, so nothing else may reach a pool (RFC 9110 section 15.5.6 asks for Allow). The
        // filter is not asked.
        host.addRoutes(Route.newBuilder()
                .setName("method-not-allowed")
                .setMatch(RouteMatch.newBuilder().setSafeRegex(INFERENCE_PATHS)
                        .addHeaders(HeaderMatcher.newBuilder().setName(":method")
                                .setStringMatch(StringMatcher.newBuilder().setExact("POST")).setInvertMatch(true)))
                .setDirectResponse(DirectResponseAction.newBuilder().setStatus(405)
                        .setBody(DataSource.newBuilder().setInlineString(METHOD_NOT_ALLOWED)))
                .addResponseHeadersToAdd(HeaderValueOption.newBuilder()
                        .setHeader(HeaderValue.newBuilder().setKey("content-type").setValue("application/json")))
                .addResponseHeadersToAdd(HeaderValueOption.newBuilder()
                        .setHeader(HeaderValue.newBuilder().setKey("allow").setValue("POST")))
                .putTypedPerFilterConfig(AiFilterChain.EXT_PROC_FILTER,
                        Any.pack(ExtProcPerRoute.newBuilder().setDisabled(true).build())));
        host.addRoutes(Route.newBuilder()
                .setName("model-not-found")
                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setDirectResponse(DirectResponseAction.newBuilder().setStatus(404)
                        .setBody(DataSource.newBuilder().setInlineString(MODEL_NOT_FOUND)))
                .addResponseHeadersToAdd(HeaderValueOption.newBuilder()
                        .setHeader(HeaderValue.newBuilder().setKey("content-type").setValue("application/json"))));
        RouteConfiguration.Builder config = RouteConfiguration.newBuilder()
                .setName(ROUTE_CONFIG_NAME)
                .addAllInternalOnlyHeaders(WireContract.INTERNAL_HEADERS)
                .addVirtualHosts(host);
        if (filtered) {
            config.addAllResponseHeadersToAdd(filterResponseHeaders());
        }
        return config.build();
    }

    /**
     * The ai-filter's rate-limit and decision headers, from the metadata its admission answer set (see
     * ExtProcConfig). A request without them (no tenant limits, no filter answer) has empty values,
     * which Envoy does not add.
     */
    static List<HeaderValueOption> filterResponseHeaders() {
        return FILTER_RESPONSE_HEADERS.stream().map(name -> HeaderValueOption.newBuilder()
                .setHeader(HeaderValue.newBuilder().setKey(name)
                        .setValue("%DYNAMIC_METADATA(" + ExtProcConfig.METADATA_NAMESPACE + ":" + name + ")%"))
                .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
                .build()).toList();
    }

    /**
     * The routes of a model whose version the ai-filter chose (a pool of it is a picker pool or a
     * dedicated pool): per version, on the pool header the filter set, to the pool's cluster (whose
     * picker pools go to the endpoint the filter picked). A request the filter set no pool for (it
     * failed open) falls through to the weighted split, which leaves dedicated pools out. Only the
     * filter can set the pool header: Envoy removes clients' copies first.
     */
    private static void addPoolRoutes(VirtualHost.Builder host, ModelRoute route, Map<String, InferencePool> pools) {
        for (ModelVersion version : route.versions()) {
            RouteMatch match = modelHeaderMatch(route).toBuilder()
                    .addHeaders(exact(WireContract.POOL_HEADER, version.pool())).build();
            host.addRoutes(poolRoute(route, version, "", match.toBuilder(), clusterName(version.pool())));
        }
    }

    private static Route poolRoute(ModelRoute route, ModelVersion version, String suffix, RouteMatch.Builder match,
                                   String cluster) {
        return Route.newBuilder()
                .setName(route.name() + "/pool/" + version.name() + suffix)
                .setMatch(match)
                .setRoute(action(route).setCluster(cluster))
                .addResponseHeadersToAdd(HeaderValueOption.newBuilder()
                        .setHeader(HeaderValue.newBuilder().setKey(WireContract.ROUTE_VERSION_HEADER).setValue(version.name())))
                .build();
    }

    /**
     * The override routes, then the weighted route, of one model; {@code suffix} keeps route names
     * unique. Dedicated pools are left out: Envoy does not know the tenant, only the filter's pool
     * header may send a request there. A model served by dedicated pools alone gets no such route.
     */
    private static void addModelRoutes(VirtualHost.Builder host, ModelRoute route, String suffix, RouteMatch modelMatch,
                                       Map<String, InferencePool> pools) {
        for (HeaderOverride override : route.overrides()) {
            ModelVersion version = route.version(override.version());
            if (pools.get(version.pool()).dedicated()) {
                continue;
            }
            host.addRoutes(Route.newBuilder()
                    .setName(route.name() + suffix + "/override/" + override.header() + "=" + override.value())
                    .setMatch(modelMatch.toBuilder().addHeaders(exact(override.header(), override.value())))
                    .setRoute(action(route).setCluster(clusterName(version.pool()))));
        }
        WeightedCluster.Builder split = WeightedCluster.newBuilder();
        for (ModelVersion version : route.versions()) {
            if (version.weight() > 0 && !pools.get(version.pool()).dedicated()) {
                split.addClusters(WeightedCluster.ClusterWeight.newBuilder()
                        .setName(clusterName(version.pool()))
                        .setWeight(UInt32Value.of(version.weight()))
                        .addResponseHeadersToAdd(HeaderValueOption.newBuilder()
                                .setHeader(HeaderValue.newBuilder().setKey(WireContract.ROUTE_VERSION_HEADER).setValue(version.name()))));
            }
        }
        if (split.getClustersCount() > 0) {
            host.addRoutes(Route.newBuilder()
                    .setName(route.name() + suffix)
                    .setMatch(modelMatch)
                    .setRoute(action(route).setWeightedClusters(split)));
        }
    }

    /** Every route to a pool matches POST only: the other methods get the 405 route, never a model server. */
    private static RouteMatch modelHeaderMatch(ModelRoute route) {
        return RouteMatch.newBuilder().setSafeRegex(INFERENCE_PATHS).addHeaders(exact(":method", "POST"))
                .addHeaders(exact(WireContract.MODEL_HEADER, route.model())).build();
    }

    private static RouteMatch modelMetadataMatch(ModelRoute route) {
        return RouteMatch.newBuilder()
                .setSafeRegex(INFERENCE_PATHS)
                .addHeaders(exact(":method", "POST"))
                .addDynamicMetadata(MetadataMatcher.newBuilder()
                        .setFilter(WireContract.METADATA_NAMESPACE)
                        .addPath(MetadataMatcher.PathSegment.newBuilder().setKey(WireContract.METADATA_MODEL_KEY))
                        .setValue(ValueMatcher.newBuilder().setStringMatch(StringMatcher.newBuilder().setExact(route.model()))))
                .build();
    }

    private static HeaderMatcher exact(String header, String value) {
        return HeaderMatcher.newBuilder()
                .setName(header)
                .setStringMatch(StringMatcher.newBuilder().setExact(value))
                .build();
    }

    private static RouteAction.Builder action(ModelRoute route) {
        // Retrying is safe only where the model server cannot have started the request.
        return RouteAction.newBuilder()
                .setTimeout(Durations.fromNanos(route.timeout().toNanos()))
                .setRetryPolicy(RetryPolicy.newBuilder()
                        .setRetryOn("connect-failure,refused-stream,reset-before-request")
                        .setNumRetries(UInt32Value.of(2)));
    }
}
