package io.aimesh.istio;

import com.google.protobuf.util.Durations;
import io.aimesh.filter.api.WireContract;
import io.aimesh.policy.Balancing;
import io.aimesh.policy.Endpoint;
import io.aimesh.policy.HeaderOverride;
import io.aimesh.policy.InferencePool;
import io.aimesh.policy.ModelRoute;
import io.aimesh.policy.ModelVersion;
import io.aimesh.policy.PolicySet;
import io.aimesh.xds.translate.AiFilterChain;
import io.fabric8.istio.api.api.networking.v1alpha3.ConnectionPoolSettings;
import io.fabric8.istio.api.api.networking.v1alpha3.ConnectionPoolSettingsHTTPSettings;
import io.fabric8.istio.api.api.networking.v1alpha3.ConnectionPoolSettingsTCPSettings;
import io.fabric8.istio.api.api.networking.v1alpha3.Destination;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPBody;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPBodyString;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPDirectResponse;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPMatchRequest;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRetry;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRouteDestination;
import io.fabric8.istio.api.api.networking.v1alpha3.Headers;
import io.fabric8.istio.api.api.networking.v1alpha3.HeadersHeaderOperations;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettings;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsSimple;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsSimpleLB;
import io.fabric8.istio.api.api.networking.v1alpha3.Port;
import io.fabric8.istio.api.api.networking.v1alpha3.PortSelector;
import io.fabric8.istio.api.api.networking.v1alpha3.Server;
import io.fabric8.istio.api.api.networking.v1alpha3.ServiceEntryLocation;
import io.fabric8.istio.api.api.networking.v1alpha3.ServiceEntryResolution;
import io.fabric8.istio.api.api.networking.v1alpha3.ServicePort;
import io.fabric8.istio.api.api.networking.v1alpha3.StringMatch;
import io.fabric8.istio.api.api.networking.v1alpha3.StringMatchExact;
import io.fabric8.istio.api.api.networking.v1alpha3.StringMatchRegex;
import io.fabric8.istio.api.api.networking.v1alpha3.Subset;
import io.fabric8.istio.api.api.networking.v1alpha3.TrafficPolicy;
import io.fabric8.istio.api.api.networking.v1alpha3.WorkloadEntry;
import io.fabric8.istio.api.networking.v1.DestinationRule;
import io.fabric8.istio.api.networking.v1.Gateway;
import io.fabric8.istio.api.networking.v1.ServiceEntry;
import io.fabric8.istio.api.networking.v1.VirtualService;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Istio's routing for the model routes: a DestinationRule per host with a subset per version's pool,
 * VirtualService routes per model (header overrides, then the weighted split, as the control plane's
 * route table orders them), ServiceEntries for pools outside the mesh, and in gateway mode the
 * Gateway the routes bind to.
 *
 * <p>In gateway mode the routes match the {@code x-aimesh-model} header the ai-filter sets after
 * reading the body (Envoy's router re-matches after it), and a version the filter chose (a picker or
 * dedicated pool) on the {@code x-aimesh-pool} header; Envoy removes clients' copies of both first.
 * In sidecar mode the filter runs in the model servers' inbound chain, after the callers' sidecars
 * routed, so the routes are per Service host and match only the override headers.
 */
final class MeshRouting {
    static final String GATEWAY_NAME = "aimesh-gateway";
    /** Envoy's circuit breakers at Istio's defaults would turn a queue a model server absorbs into 503s. */
    private static final int MAX_REQUESTS = 100_000;

    private final PolicySet policies;
    private final RenderOptions options;
    private final PoolHosts hosts;

    MeshRouting(PolicySet policies, RenderOptions options, PoolHosts hosts) {
        this.policies = policies;
        this.options = options;
        this.hosts = hosts;
    }

    List<DestinationRule> destinationRules() {
        List<DestinationRule> rules = new ArrayList<>();
        hosts.byHost().forEach((host, targets) -> {
            io.fabric8.istio.api.api.networking.v1alpha3.DestinationRule spec =
                    new io.fabric8.istio.api.api.networking.v1alpha3.DestinationRule();
            spec.setHost(host);
            List<Subset> subsets = new ArrayList<>();
            for (PoolHosts.Target target : targets) {
                Subset subset = new Subset();
                subset.setName(target.subset());
                subset.setLabels(new LinkedHashMap<>(target.labels()));
                subset.setTrafficPolicy(trafficPolicy(target.pool()));
                subsets.add(subset);
            }
            spec.setSubsets(subsets);
            DestinationRule rule = new DestinationRule();
            rule.setMetadata(meta("aimesh-" + hostName(host)));
            rule.setSpec(spec);
            rules.add(rule);
        });
        return rules;
    }

    List<ServiceEntry> serviceEntries() {
        List<ServiceEntry> entries = new ArrayList<>();
        hosts.externals().forEach((routeName, external) -> {
            io.fabric8.istio.api.api.networking.v1alpha3.ServiceEntry spec = new io.fabric8.istio.api.api.networking.v1alpha3.ServiceEntry();
            spec.setHosts(List.of(external.host()));
            spec.setLocation(ServiceEntryLocation.MESH_EXTERNAL);
            boolean allIps = external.endpoints().stream().allMatch(e -> e.host().matches("[0-9.]+") || e.host().contains(":"));
            spec.setResolution(allIps ? ServiceEntryResolution.STATIC : ServiceEntryResolution.DNS);
            ServicePort port = new ServicePort();
            port.setName("http");
            port.setNumber((long) external.port());
            port.setProtocol("HTTP");
            spec.setPorts(List.of(port));
            List<WorkloadEntry> endpoints = new ArrayList<>();
            for (Endpoint endpoint : external.endpoints()) {
                WorkloadEntry entry = new WorkloadEntry();
                entry.setAddress(endpoint.host());
                entry.setPorts(Map.of("http", (long) endpoint.port()));
                entry.setLabels(Map.of(PoolHosts.POOL_LABEL, external.pools().get(endpoint)));
                endpoints.add(entry);
            }
            spec.setEndpoints(endpoints);
            ServiceEntry entry = new ServiceEntry();
            entry.setMetadata(meta("aimesh-" + routeName));
            entry.setSpec(spec);
            entries.add(entry);
        });
        return entries;
    }

    /** Gateway mode: one VirtualService, so Istio cannot order the catch-all before a model's routes. */
    List<VirtualService> virtualServices() {
        boolean gateway = options.mode() == RenderOptions.Mode.GATEWAY;
        List<VirtualService> services = new ArrayList<>();
        if (gateway) {
            List<HTTPRoute> http = new ArrayList<>();
            for (ModelRoute route : policies.routes()) {
                http.addAll(routes(route, true));
            }
            http.add(methodNotAllowed());
            http.add(modelNotFound());
            services.add(virtualService("aimesh-models", List.of("*"), List.of(options.namespace() + "/" + GATEWAY_NAME), http));
            return services;
        }
        for (ModelRoute route : policies.routes()) {
            List<String> routeHosts = route.versions().stream().map(v -> hosts.target(route, v).host()).distinct().toList();
            List<HTTPRoute> http = new ArrayList<>(routes(route, false));
            http.add(methodNotAllowed());
            services.add(virtualService("aimesh-" + route.name(), routeHosts, List.of(), http));
        }
        return services;
    }

    Gateway gateway() {
        io.fabric8.istio.api.api.networking.v1alpha3.Gateway spec = new io.fabric8.istio.api.api.networking.v1alpha3.Gateway();
        spec.setSelector(new LinkedHashMap<>(options.gatewaySelector()));
        Port port = new Port();
        port.setNumber(80L);
        port.setName("http");
        port.setProtocol("HTTP");
        Server server = new Server();
        server.setPort(port);
        server.setHosts(List.of("*"));
        spec.setServers(List.of(server));
        Gateway gateway = new Gateway();
        gateway.setMetadata(meta(GATEWAY_NAME));
        gateway.setSpec(spec);
        return gateway;
    }

    private List<HTTPRoute> routes(ModelRoute route, boolean modelHeader) {
        List<HTTPRoute> http = new ArrayList<>();
        if (modelHeader && policies.filterRouted(route)) {
            for (ModelVersion version : route.versions()) {
                Map<String, StringMatch> headers = modelMatch(route, true);
                headers.put(WireContract.POOL_HEADER, exact(version.pool()));
                http.add(route(route.name() + "-pool-" + version.name(), route, headers, List.of(destination(route, version, 0))));
            }
        }
        for (HeaderOverride override : route.overrides()) {
            ModelVersion version = route.version(override.version());
            if (policies.pool(version.pool()).dedicated()) {
                continue; // only the filter's pool header may send a request to a dedicated pool
            }
            Map<String, StringMatch> headers = modelMatch(route, modelHeader);
            headers.put(override.header(), exact(override.value()));
            http.add(route(route.name() + "-override-" + override.version(), route, headers,
                    List.of(destination(route, version, 0))));
        }
        List<ModelVersion> weighted = route.versions().stream()
                .filter(v -> v.weight() > 0 && !policies.pool(v.pool()).dedicated()).toList();
        if (!weighted.isEmpty()) {
            int[] percents = Weights.percents(weighted.stream().mapToInt(ModelVersion::weight).toArray());
            List<HTTPRouteDestination> destinations = new ArrayList<>();
            for (int i = 0; i < weighted.size(); i++) {
                destinations.add(destination(route, weighted.get(i), weighted.size() == 1 ? 0 : percents[i]));
            }
            http.add(route(route.name(), route, modelMatch(route, modelHeader), destinations));
        }
        return http;
    }

    /** A route whose version the ai-filter chooses: one of its pools is a picker pool or dedicated. */
    private HTTPRoute route(String name, ModelRoute route, Map<String, StringMatch> headers, List<HTTPRouteDestination> destinations) {
        HTTPMatchRequest match = inferenceMatch();
        match.setMethod(exact("POST"));
        if (!headers.isEmpty()) {
            match.setHeaders(headers);
        }
        HTTPRoute http = new HTTPRoute();
        http.setName(name);
        http.setMatch(List.of(match));
        http.setRoute(destinations);
        http.setTimeout(duration(route.timeout())); // 0s, as on the control plane's path, disables it
        // Retrying is safe only where the model server cannot have started the request.
        HTTPRetry retry = new HTTPRetry();
        retry.setAttempts(2);
        retry.setRetryOn("connect-failure,refused-stream,reset-before-request");
        http.setRetries(retry);
        return http;
    }

    private HTTPRouteDestination destination(ModelRoute route, ModelVersion version, int weight) {
        PoolHosts.Target target = hosts.target(route, version);
        Destination destination = new Destination();
        destination.setHost(target.host());
        destination.setSubset(target.subset());
        destination.setPort(new PortSelector((long) target.port()));
        HTTPRouteDestination routed = new HTTPRouteDestination();
        routed.setDestination(destination);
        if (weight > 0) {
            routed.setWeight(weight);
        }
        HeadersHeaderOperations response = new HeadersHeaderOperations();
        response.setSet(Map.of(WireContract.ROUTE_VERSION_HEADER, version.name()));
        Headers headers = new Headers();
        headers.setResponse(response);
        routed.setHeaders(headers);
        return routed;
    }

    private static Map<String, StringMatch> modelMatch(ModelRoute route, boolean modelHeader) {
        Map<String, StringMatch> headers = new LinkedHashMap<>();
        if (modelHeader) {
            headers.put(WireContract.MODEL_HEADER, exact(route.model()));
        }
        return headers;
    }

    private static HTTPRoute methodNotAllowed() {
        HTTPRoute http = directResponse("method-not-allowed", 405, AiFilterChain.METHOD_NOT_ALLOWED);
        http.getHeaders().getResponse().getSet().put("allow", "POST");
        return http;
    }

    private static HTTPRoute modelNotFound() {
        HTTPRoute http = directResponse("model-not-found", 404, AiFilterChain.MODEL_NOT_FOUND);
        HTTPMatchRequest any = new HTTPMatchRequest();
        any.setUri(new StringMatch(new io.fabric8.istio.api.api.networking.v1alpha3.StringMatchPrefix("/")));
        http.setMatch(List.of(any));
        return http;
    }

    private static HTTPRoute directResponse(String name, int status, String body) {
        HTTPDirectResponse response = new HTTPDirectResponse();
        response.setStatus((long) status);
        response.setBody(new HTTPBody(new HTTPBodyString(body)));
        HeadersHeaderOperations set = new HeadersHeaderOperations();
        set.setSet(new LinkedHashMap<>(Map.of("content-type", "application/json")));
        Headers headers = new Headers();
        headers.setResponse(set);
        HTTPRoute http = new HTTPRoute();
        http.setName(name);
        http.setMatch(List.of(inferenceMatch()));
        http.setDirectResponse(response);
        http.setHeaders(headers);
        return http;
    }

    private static HTTPMatchRequest inferenceMatch() {
        HTTPMatchRequest match = new HTTPMatchRequest();
        match.setUri(new StringMatch(new StringMatchRegex(AiFilterChain.INFERENCE_PATH_REGEX)));
        return match;
    }

    private VirtualService virtualService(String name, List<String> vsHosts, List<String> gateways, List<HTTPRoute> http) {
        io.fabric8.istio.api.api.networking.v1alpha3.VirtualService spec = new io.fabric8.istio.api.api.networking.v1alpha3.VirtualService();
        spec.setHosts(vsHosts);
        if (!gateways.isEmpty()) {
            spec.setGateways(gateways);
        }
        spec.setHttp(http);
        VirtualService service = new VirtualService();
        service.setMetadata(meta(name));
        service.setSpec(spec);
        return service;
    }

    private static TrafficPolicy trafficPolicy(InferencePool pool) {
        LoadBalancerSettings balancer = new LoadBalancerSettings();
        // A picker pool's requests go to the endpoint the filter picked (EnvoyFilter CLUSTER MERGE);
        // least request is for the ones it did not pick for, as on the control plane's path.
        LoadBalancerSettingsSimpleLB simple = pool.balancing().mode() == Balancing.Mode.ROUND_ROBIN
                ? LoadBalancerSettingsSimpleLB.ROUND_ROBIN : LoadBalancerSettingsSimpleLB.LEAST_REQUEST;
        balancer.setLbPolicy(new LoadBalancerSettingsSimple(simple));
        ConnectionPoolSettingsTCPSettings tcp = new ConnectionPoolSettingsTCPSettings();
        tcp.setConnectTimeout(duration(pool.connectTimeout()));
        tcp.setMaxConnections(MAX_REQUESTS);
        ConnectionPoolSettingsHTTPSettings http = new ConnectionPoolSettingsHTTPSettings();
        http.setHttp1MaxPendingRequests(MAX_REQUESTS);
        http.setHttp2MaxRequests(MAX_REQUESTS);
        ConnectionPoolSettings connections = new ConnectionPoolSettings();
        connections.setTcp(tcp);
        connections.setHttp(http);
        TrafficPolicy policy = new TrafficPolicy();
        policy.setLoadBalancer(balancer);
        policy.setConnectionPool(connections);
        return policy;
    }

    private ObjectMeta meta(String name) {
        return new ObjectMetaBuilder().withName(name).withNamespace(options.namespace()).withLabels(IstioRenderer.LABELS).build();
    }

    /** A resource name from a host: its first two labels, {@code llama.models.svc.cluster.local} → {@code llama-models}. */
    static String hostName(String host) {
        String[] labels = host.split("\\.");
        String name = labels.length > 1 ? labels[0] + "-" + labels[1] : labels[0];
        return name.length() > 56 ? name.substring(0, 56) : name;
    }

    static StringMatch exact(String value) {
        return new StringMatch(new StringMatchExact(value));
    }

    /** Istio's durations are protobuf's JSON form: seconds with a fraction, {@code 0.250s}. */
    static String duration(Duration duration) {
        return Durations.toString(Durations.fromNanos(duration.toNanos()));
    }
}
