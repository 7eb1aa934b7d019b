package io.aimesh.istio;

import static java.util.Objects.requireNonNull;

import io.aimesh.policy.Balancing;
import io.aimesh.policy.Gateway;
import io.aimesh.policy.ModelRoute;
import io.aimesh.policy.ModelVersion;
import io.aimesh.policy.PolicySet;
import io.aimesh.xds.translate.TranslationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Renders the Istio side of a policy set: what makes Istio's proxies run the ai-filter and route by
 * model the way the control plane's own Envoy config does, from the same policy files. The output
 * is Istio's and the Gateway API's own types (fabric8's models), written as YAML by
 * {@link IstioResources#write}. Stateless.
 *
 * <ul>
 *   <li>{@link EnvoyFilterPatches}: the ai-filter's filters and cluster, in sidecars' inbound chain
 *       or a gateway's;</li>
 *   <li>{@link MeshRouting}: DestinationRules, VirtualServices, ServiceEntries and an Istio Gateway;</li>
 *   <li>{@link InferenceExtension}: with {@code inferenceExtension}, InferencePools and HTTPRoutes instead.</li>
 * </ul>
 */
public final class IstioRenderer {
    /** Labels on every rendered resource, so {@code kubectl get -l} finds (and prunes) them. */
    static final Map<String, String> LABELS = Map.of("app.kubernetes.io/managed-by", "aimesh");

    private IstioRenderer() {
    }

    /**
     * @throws RenderException listing every reason the policies cannot be rendered
     */
    public static IstioResources render(PolicySet policies, RenderOptions options) throws RenderException {
        requireNonNull(policies, "policies");
        requireNonNull(options, "options");
        Gateway gateway = policies.gateway();
        List<String> problems = new ArrayList<>();
        if (gateway == null || gateway.filter() == null) {
            problems.add("Gateway: none with spec.filter; the Istio render puts the ai-filter in the proxies and needs its settings");
        }
        problems.addAll(PoolHosts.problems(policies));
        if (!problems.isEmpty()) {
            throw new RenderException(problems);
        }
        List<String> notes = new ArrayList<>();
        if (options.mode() == RenderOptions.Mode.SIDECAR) {
            for (ModelRoute route : policies.routes()) {
                for (ModelVersion version : route.versions()) {
                    if (policies.pool(version.pool()).balancing().mode() == Balancing.Mode.PICKER) {
                        notes.add("InferencePool/" + version.pool() + ": picker balancing needs the ai-filter before routing "
                                + "(--mode gateway); a sidecar's inbound chain runs after the caller chose the endpoint, so "
                                + "callers balance it by least request");
                    }
                }
            }
        }
        PoolHosts hosts = PoolHosts.of(policies, options.namespace());
        List<PoolHosts.Target> picked = new ArrayList<>();
        if (options.mode() == RenderOptions.Mode.GATEWAY && !options.inferenceExtension()) {
            hosts.byHost().values().forEach(targets -> targets.stream()
                    .filter(t -> t.pool().balancing().mode() == Balancing.Mode.PICKER).forEach(picked::add));
        }
        List<io.fabric8.istio.api.networking.v1alpha3.EnvoyFilter> envoyFilters;
        try {
            envoyFilters = EnvoyFilterPatches.render(gateway, options, picked);
        } catch (TranslationException e) {
            throw new RenderException(List.of("Gateway/" + gateway.name() + ": " + e.getMessage()));
        }
        if (options.inferenceExtension()) {
            InferenceExtension extension = new InferenceExtension(policies, options, gateway.filter());
            var pools = extension.inferencePools();
            var routes = extension.httpRoutes();
            notes.addAll(extension.skipped());
            return new IstioResources(envoyFilters, List.of(), List.of(), List.of(), List.of(), pools, routes,
                    List.of(extension.gateway()), notes);
        }
        MeshRouting routing = new MeshRouting(policies, options, hosts);
        return new IstioResources(envoyFilters, routing.destinationRules(), routing.virtualServices(), routing.serviceEntries(),
                options.mode() == RenderOptions.Mode.GATEWAY ? List.of(routing.gateway()) : List.of(), List.of(), List.of(),
                List.of(), notes);
    }
}
