package io.aimesh.istio;

import io.aimesh.filter.api.WireContract;
import io.aimesh.policy.Endpoint;
import io.aimesh.policy.FilterSettings;
import io.aimesh.policy.HeaderOverride;
import io.aimesh.policy.InferencePool;
import io.aimesh.policy.ModelRoute;
import io.aimesh.policy.ModelVersion;
import io.aimesh.policy.PolicySet;
import io.aimesh.xds.translate.AiFilterChain;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewaySpec;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPPathMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteSpec;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Gateway API Inference Extension's resources (Istio 1.28 and later, gateways only): an
 * {@code InferencePool} ({@code inference.networking.k8s.io/v1}) per pool of pods whose endpoint
 * picker is the ai-filter (it answers as a picker does: {@code x-gateway-destination-endpoint} and
 * {@code envoy.lb} metadata), an {@code HTTPRoute} per model with the route's overrides and
 * weighted split over the versions' pools, and the Gateway API {@code Gateway} they attach to.
 *
 * <p>The fabric8 Gateway API model has no Inference Extension types, so the InferencePool is a
 * generic resource of the extension's v1 shape; the round-trip test reads it back field by field.
 * Pools outside the mesh (no {@code selector}) have no pods to select and are left out, named in
 * {@link #skipped()}.
 */
final class InferenceExtension {
    static final String API_VERSION = "inference.networking.k8s.io/v1";
    static final String GROUP = "inference.networking.k8s.io";
    static final String GATEWAY_NAME = "aimesh-inference-gateway";

    private final PolicySet policies;
    private final RenderOptions options;
    private final Endpoint picker;
    private final boolean failOpen;
    private final List<String> skipped = new ArrayList<>();

    InferenceExtension(PolicySet policies, RenderOptions options, FilterSettings filter) {
        this.policies = policies;
        this.options = options;
        this.picker = options.aiFilter() == null ? filter.address() : options.aiFilter();
        this.failOpen = filter.failOpen();
    }

    List<GenericKubernetesResource> inferencePools() {
        List<GenericKubernetesResource> pools = new ArrayList<>();
        for (InferencePool pool : policies.pools()) {
            if (pool.selector().isEmpty()) {
                skipped.add("InferencePool/" + pool.name() + ": no selector, its endpoints are outside the cluster");
                continue;
            }
            Map<String, Object> endpointPicker = new LinkedHashMap<>();
            endpointPicker.put("name", serviceName(picker.host()));
            endpointPicker.put("port", Map.of("number", picker.port()));
            endpointPicker.put("failureMode", failOpen ? "FailOpen" : "FailClose");
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("selector", Map.of("matchLabels", new LinkedHashMap<>(pool.selector())));
            spec.put("targetPorts", List.of(Map.of("number", pool.endpoints().get(0).port())));
            spec.put("endpointPickerRef", endpointPicker);
            GenericKubernetesResource resource = new GenericKubernetesResource();
            resource.setApiVersion(API_VERSION);
            resource.setKind("InferencePool");
            resource.setMetadata(new ObjectMetaBuilder().withName(pool.name()).withNamespace(options.namespace())
                    .withLabels(IstioRenderer.LABELS).build());
            resource.setAdditionalProperty("spec", spec);
            pools.add(resource);
        }
        return pools;
    }

    List<HTTPRoute> httpRoutes() {
        List<HTTPRoute> routes = new ArrayList<>();
        for (ModelRoute route : policies.routes()) {
            List<HTTPRouteRule> rules = new ArrayList<>();
            for (HeaderOverride override : route.overrides()) {
                ModelVersion version = route.version(override.version());
                if (inCluster(version) && !policies.pool(version.pool()).dedicated()) {
                    rules.add(rule(route, override.header(), override.value(), List.of(backend(version, null))));
                }
            }
            List<HTTPBackendRef> split = new ArrayList<>();
            for (ModelVersion version : route.versions()) {
                if (inCluster(version) && version.weight() > 0 && !policies.pool(version.pool()).dedicated()) {
                    split.add(backend(version, version.weight()));
                }
            }
            if (!split.isEmpty()) {
                rules.add(rule(route, null, null, split));
            }
            if (rules.isEmpty()) {
                skipped.add("ModelRoute/" + route.name() + ": no version in a pool with a selector");
                continue;
            }
            ParentReference parent = new ParentReference();
            parent.setName(GATEWAY_NAME);
            HTTPRouteSpec spec = new HTTPRouteSpec();
            spec.setParentRefs(List.of(parent));
            spec.setRules(rules);
            HTTPRoute http = new HTTPRoute();
            http.setMetadata(new ObjectMetaBuilder().withName("aimesh-" + route.name()).withNamespace(options.namespace())
                    .withLabels(IstioRenderer.LABELS).build());
            http.setSpec(spec);
            routes.add(http);
        }
        return routes;
    }

    Gateway gateway() {
        Listener listener = new Listener();
        listener.setName("http");
        listener.setPort(80);
        listener.setProtocol("HTTP");
        GatewaySpec spec = new GatewaySpec();
        spec.setGatewayClassName("istio");
        spec.setListeners(List.of(listener));
        Gateway gateway = new Gateway();
        gateway.setMetadata(new ObjectMetaBuilder().withName(GATEWAY_NAME).withNamespace(options.namespace())
                .withLabels(IstioRenderer.LABELS).build());
        gateway.setSpec(spec);
        return gateway;
    }

    /** The pods of the Gateway API gateway Istio deploys for {@link #gateway()}: the EnvoyFilter's selector. */
    static Map<String, String> gatewayPods() {
        return Map.of("gateway.networking.k8s.io/gateway-name", GATEWAY_NAME);
    }

    /** What was left out, one line each. */
    List<String> skipped() {
        return List.copyOf(skipped);
    }

    private boolean inCluster(ModelVersion version) {
        return !policies.pool(version.pool()).selector().isEmpty();
    }

    private static HTTPRouteRule rule(ModelRoute route, String header, String value, List<HTTPBackendRef> backends) {
        List<HTTPHeaderMatch> headers = new ArrayList<>();
        headers.add(header(WireContract.MODEL_HEADER, route.model()));
        if (header != null) {
            headers.add(header(header, value));
        }
        HTTPPathMatch path = new HTTPPathMatch();
        path.setType("RegularExpression");
        path.setValue(AiFilterChain.INFERENCE_PATH_REGEX);
        HTTPRouteMatch match = new HTTPRouteMatch();
        match.setPath(path);
        match.setMethod("POST");
        match.setHeaders(headers);
        HTTPRouteRule rule = new HTTPRouteRule();
        rule.setMatches(List.of(match));
        rule.setBackendRefs(backends);
        return rule;
    }

    private static HTTPHeaderMatch header(String name, String value) {
        HTTPHeaderMatch match = new HTTPHeaderMatch();
        match.setType("Exact");
        match.setName(name);
        match.setValue(value);
        return match;
    }

    private static HTTPBackendRef backend(ModelVersion version, Integer weight) {
        HTTPBackendRef backend = new HTTPBackendRef();
        backend.setGroup(GROUP);
        backend.setKind("InferencePool");
        backend.setName(version.pool());
        if (weight != null) {
            backend.setWeight(weight);
        }
        return backend;
    }

    /** The Service name in a host: {@code aimesh-filter.aimesh-system.svc.cluster.local} → {@code aimesh-filter}. */
    private static String serviceName(String host) {
        return host.matches("[0-9.]+") || host.contains(":") ? "aimesh-filter" : host.split("\\.")[0];
    }
}
