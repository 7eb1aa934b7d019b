package io.aimesh.istio;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.aimesh.policy.Endpoint;
import io.aimesh.policy.InferencePool;
import io.aimesh.policy.LoadResult;
import io.aimesh.policy.ModelRoute;
import io.aimesh.policy.ModelVersion;
import io.aimesh.policy.PolicyLoader;
import io.aimesh.policy.PolicySet;
import io.aimesh.xds.translate.AiFilterChain;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterApplyTo;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterEnvoyConfigObjectPatch;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterPatchContext;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRouteDestination;
import io.fabric8.istio.api.api.networking.v1alpha3.StringMatchExact;
import io.fabric8.istio.api.api.networking.v1alpha3.Subset;
import io.fabric8.istio.api.networking.v1.DestinationRule;
import io.fabric8.istio.api.networking.v1.ServiceEntry;
import io.fabric8.istio.api.networking.v1.VirtualService;
import io.fabric8.istio.api.networking.v1alpha3.EnvoyFilter;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Renders the example policies in every mode, reads the YAML back with Istio's types, and checks
 * each field against the policy it came from: what a user applies is what the policies say.
 */
class IstioRenderRoundTripTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<Arguments> examples() {
        return Stream.of("../policies/examples", "examples/policies").flatMap(dir -> Stream.of(
                Arguments.of(dir, RenderOptions.Mode.GATEWAY, false, false),
                Arguments.of(dir, RenderOptions.Mode.GATEWAY, true, false),
                Arguments.of(dir, RenderOptions.Mode.SIDECAR, false, false),
                Arguments.of(dir, RenderOptions.Mode.SIDECAR, true, false),
                Arguments.of(dir, RenderOptions.Mode.GATEWAY, false, true)));
    }

    @ParameterizedTest(name = "{0} {1} ecds={2} inferenceExtension={3}")
    @MethodSource("examples")
    void render_roundTripsEveryFieldFromThePolicies(String dir, RenderOptions.Mode mode, boolean ecds, boolean extension)
            throws Exception {
        PolicySet policies = load(dir);
        Map<String, String> selector = mode == RenderOptions.Mode.SIDECAR ? Map.of("app", "llama") : Map.of();
        RenderOptions options = new RenderOptions(mode, null, selector, "models", ecds, extension);
        Map<String, String> files = IstioRenderer.render(policies, options).files();

        checkEnvoyFilters(policies, options, IstioResources.read(files.get("envoyfilter.yaml"), EnvoyFilter.class));
        if (extension) {
            checkInferenceExtension(policies, files);
            assertThat(files).doesNotContainKeys("virtualservice.yaml", "destinationrule.yaml");
            return;
        }
        PoolHosts hosts = PoolHosts.of(policies, "models");
        checkDestinationRules(policies, hosts, IstioResources.read(files.get("destinationrule.yaml"), DestinationRule.class));
        checkVirtualServices(policies, options, IstioResources.read(files.get("virtualservice.yaml"), VirtualService.class));
        List<ServiceEntry> entries = files.containsKey("serviceentry.yaml")
                ? IstioResources.read(files.get("serviceentry.yaml"), ServiceEntry.class) : List.of();
        checkServiceEntries(policies, entries);
        assertThat(files.containsKey("gateway.yaml")).isEqualTo(mode == RenderOptions.Mode.GATEWAY);
    }

    private static void checkEnvoyFilters(PolicySet policies, RenderOptions options, List<EnvoyFilter> filters) throws Exception {
        assertThat(filters).hasSize(options.ecds() ? 2 : 1);
        EnvoyFilterPatchContext context = options.mode() == RenderOptions.Mode.GATEWAY
                ? EnvoyFilterPatchContext.GATEWAY : EnvoyFilterPatchContext.SIDECAR_INBOUND;
        for (EnvoyFilter filter : filters) {
            // Beside the gateway pods, not beside the routes: in the routes' namespace it would not apply to a
            // gateway in istio-system, which would route by a client's x-aimesh-model with no ai-filter.
            assertThat(filter.getMetadata().getNamespace()).isEqualTo(
                    options.mode() == RenderOptions.Mode.GATEWAY && !options.inferenceExtension() ? "istio-system" : "models");
            assertThat(filter.getSpec().getPriority()).isEqualTo(EnvoyFilterPatches.PRIORITY);
            assertThat(filter.getSpec().getWorkloadSelector().getLabels()).isEqualTo(
                    options.mode() == RenderOptions.Mode.GATEWAY ? options.gatewaySelector() : options.selector());
        }
        List<EnvoyFilterEnvoyConfigObjectPatch> patches = filters.get(0).getSpec().getConfigPatches();
        List<EnvoyFilterEnvoyConfigObjectPatch> httpFilters = patches.stream()
                .filter(p -> p.getApplyTo() == EnvoyFilterApplyTo.HTTP_FILTER).toList();
        assertThat(httpFilters).allSatisfy(p -> assertThat(p.getMatch().getContext()).isEqualTo(context));
        assertThat(httpFilters).extracting(p -> value(p).get("name")).containsExactly(AiFilterChain.STRIP_FILTER,
                options.ecds() ? EnvoyFilterPatches.EXTENSION_NAME : AiFilterChain.EXT_PROC_FILTER,
                AiFilterChain.UPSTREAM_HEADERS_FILTER);

        // The ext_proc settings are the Gateway's, proto for proto.
        Map<String, Object> extProc = options.ecds()
                ? value(filters.get(1).getSpec().getConfigPatches().get(0))
                : value(httpFilters.get(1));
        if (options.ecds()) {
            assertThat(filters.get(1).getSpec().getConfigPatches().get(0).getApplyTo()).isEqualTo(EnvoyFilterApplyTo.EXTENSION_CONFIG);
            assertThat(extProc.get("name")).isEqualTo(EnvoyFilterPatches.EXTENSION_NAME);
            assertThat(JSON.writeValueAsString(value(httpFilters.get(1)).get("config_discovery"))).contains(EnvoyFilterPatches.EXT_PROC_TYPE);
        }
        ExternalProcessor parsed = parse(extProc.get("typed_config"), ExternalProcessor.newBuilder());
        assertThat(parsed).isEqualTo(AiFilterChain.extProc(policies.gateway().filter(), false, false));
        assertThat(parsed.getFailureModeAllow()).isEqualTo(policies.gateway().filter().failOpen());

        Map<String, Object> cluster = patches.stream().filter(p -> p.getApplyTo() == EnvoyFilterApplyTo.CLUSTER
                && p.getPatch().getOperation().name().equals("ADD")).map(IstioRenderRoundTripTest::value).findFirst().orElseThrow();
        Endpoint address = policies.gateway().filter().address();
        assertThat(JSON.writeValueAsString(cluster)).contains("\"address\":\"" + address.host() + "\"")
                .contains("\"port_value\":" + address.port());
        long pickerMerges = patches.stream().filter(p -> p.getApplyTo() == EnvoyFilterApplyTo.CLUSTER
                && p.getPatch().getOperation().name().equals("MERGE")).count();
        long pickerPools = policies.pools().stream().filter(p -> p.balancing().mode().name().equals("PICKER")).count();
        boolean picks = options.mode() == RenderOptions.Mode.GATEWAY && !options.inferenceExtension();
        assertThat(pickerMerges).isEqualTo(picks ? pickerPools : 0);
    }

    private static void checkDestinationRules(PolicySet policies, PoolHosts hosts, List<DestinationRule> rules) {
        Map<String, Subset> subsets = new HashMap<>();
        for (DestinationRule rule : rules) {
            assertThat(hosts.byHost()).containsKey(rule.getSpec().getHost());
            rule.getSpec().getSubsets().forEach(subset -> subsets.put(rule.getSpec().getHost() + "/" + subset.getName(), subset));
        }
        for (ModelRoute route : policies.routes()) {
            for (ModelVersion version : route.versions()) {
                PoolHosts.Target target = hosts.target(route, version);
                InferencePool pool = policies.pool(version.pool());
                Subset subset = subsets.get(target.host() + "/" + pool.name());
                assertThat(subset).as("subset of %s/%s", route.name(), version.name()).isNotNull();
                assertThat(subset.getLabels()).isEqualTo(pool.selector().isEmpty()
                        ? Map.of(PoolHosts.POOL_LABEL, pool.name()) : pool.selector());
                assertThat(subset.getTrafficPolicy().getConnectionPool().getTcp().getConnectTimeout())
                        .isEqualTo(MeshRouting.duration(pool.connectTimeout()));
            }
        }
    }

    private static void checkVirtualServices(PolicySet policies, RenderOptions options, List<VirtualService> services) {
        List<HTTPRoute> http = services.stream().flatMap(s -> s.getSpec().getHttp().stream()).toList();
        for (ModelRoute route : policies.routes()) {
            HTTPRoute weighted = http.stream().filter(h -> route.name().equals(h.getName())).findFirst().orElseThrow();
            List<ModelVersion> versions = route.versions().stream().filter(v -> v.weight() > 0).toList();
            int[] percents = Weights.percents(versions.stream().mapToInt(ModelVersion::weight).toArray());
            assertThat(weighted.getRoute()).hasSize(versions.size());
            for (int i = 0; i < versions.size(); i++) {
                HTTPRouteDestination destination = weighted.getRoute().get(i);
                assertThat(destination.getDestination().getSubset()).isEqualTo(versions.get(i).pool());
                if (versions.size() > 1) {
                    assertThat(destination.getWeight()).isEqualTo(percents[i]);
                }
                assertThat(destination.getHeaders().getResponse().getSet()).containsEntry("x-aimesh-route-version", versions.get(i).name());
            }
            assertThat(weighted.getTimeout()).isEqualTo(MeshRouting.duration(route.timeout()));
            String modelHeader = headerValue(weighted, "x-aimesh-model");
            assertThat(modelHeader).isEqualTo(options.mode() == RenderOptions.Mode.GATEWAY ? route.model() : null);
            route.overrides().forEach(override -> {
                HTTPRoute routed = http.stream().filter(h -> (route.name() + "-override-" + override.version()).equals(h.getName()))
                        .findFirst().orElseThrow();
                assertThat(headerValue(routed, override.header())).isEqualTo(override.value());
                assertThat(routed.getRoute().get(0).getDestination().getSubset()).isEqualTo(route.version(override.version()).pool());
            });
        }
        if (options.mode() == RenderOptions.Mode.GATEWAY) {
            assertThat(http.get(http.size() - 1).getDirectResponse().getStatus()).isEqualTo(404L);
            assertThat(http.get(http.size() - 2).getDirectResponse().getStatus()).isEqualTo(405L);
        }
    }

    private static void checkServiceEntries(PolicySet policies, List<ServiceEntry> entries) {
        List<String> declared = entries.stream().flatMap(e -> e.getSpec().getEndpoints().stream())
                .map(e -> e.getLabels().get(PoolHosts.POOL_LABEL) + "@" + e.getAddress() + ":" + e.getPorts().get("http")).toList();
        List<String> expected = policies.routes().stream().flatMap(r -> r.versions().stream())
                .map(v -> policies.pool(v.pool())).filter(p -> p.selector().isEmpty()).distinct()
                .flatMap(p -> p.endpoints().stream().map(e -> p.name() + "@" + e.host() + ":" + e.port())).toList();
        assertThat(declared).containsExactlyInAnyOrderElementsOf(expected);
    }

    @SuppressWarnings("unchecked")
    private static void checkInferenceExtension(PolicySet policies, Map<String, String> files) {
        List<GenericKubernetesResource> pools = files.containsKey("inferencepool.yaml")
                ? IstioResources.read(files.get("inferencepool.yaml"), GenericKubernetesResource.class) : List.of();
        for (GenericKubernetesResource resource : pools) {
            InferencePool pool = policies.pool(resource.getMetadata().getName());
            Map<String, Object> spec = (Map<String, Object>) resource.getAdditionalProperties().get("spec");
            assertThat(resource.getApiVersion()).isEqualTo("inference.networking.k8s.io/v1");
            assertThat(((Map<String, Object>) spec.get("selector")).get("matchLabels")).isEqualTo(pool.selector());
            assertThat(spec.get("targetPorts")).isEqualTo(List.of(Map.of("number", pool.endpoints().get(0).port())));
            Map<String, Object> picker = (Map<String, Object>) spec.get("endpointPickerRef");
            assertThat(picker.get("failureMode")).isEqualTo(policies.gateway().filter().failOpen() ? "FailOpen" : "FailClose");
            assertThat(picker.get("port")).isEqualTo(Map.of("number", policies.gateway().filter().address().port()));
        }
        assertThat(pools).extracting(p -> p.getMetadata().getName()).containsExactlyInAnyOrderElementsOf(
                policies.pools().stream().filter(p -> !p.selector().isEmpty()).map(InferencePool::name).toList());
        if (pools.isEmpty()) {
            return;
        }
        List<io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute> routes =
                IstioResources.read(files.get("httproute.yaml"), io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute.class);
        for (io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute http : routes) {
            ModelRoute route = policies.routes().stream().filter(r -> ("aimesh-" + r.name()).equals(http.getMetadata().getName()))
                    .findFirst().orElseThrow();
            List<HTTPBackendRef> split = http.getSpec().getRules().get(http.getSpec().getRules().size() - 1).getBackendRefs();
            assertThat(split).extracting(HTTPBackendRef::getName, HTTPBackendRef::getWeight).containsExactlyElementsOf(
                    route.versions().stream().filter(v -> v.weight() > 0)
                            .map(v -> org.assertj.core.groups.Tuple.tuple(v.pool(), v.weight())).toList());
        }
    }

    private static String headerValue(HTTPRoute route, String header) {
        var headers = route.getMatch().get(0).getHeaders();
        if (headers == null || !headers.containsKey(header)) {
            return null;
        }
        return ((StringMatchExact) headers.get(header).getMatchType()).getExact();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> value(EnvoyFilterEnvoyConfigObjectPatch patch) {
        Object value = patch.getPatch().getValue();
        // Read back, a patch value is an untyped RawExtension around the map.
        return (Map<String, Object>) (value instanceof io.fabric8.kubernetes.api.model.AnyType any ? any.getValue() : value);
    }

    @SuppressWarnings("unchecked")
    private static <T extends Message> T parse(Object typedConfig, Message.Builder builder) throws Exception {
        Map<String, Object> fields = new HashMap<>((Map<String, Object>) typedConfig);
        fields.remove("@type");
        JsonFormat.parser().merge(JSON.writeValueAsString(fields), builder);
        return (T) builder.build();
    }

    private static PolicySet load(String dir) throws Exception {
        LoadResult result = PolicyLoader.loadDirectory(Path.of(dir));
        assertThat(result.errors()).isEmpty();
        return result.policies();
    }
}
