package io.aimesh.istio;

import io.fabric8.istio.api.networking.v1.DestinationRule;
import io.fabric8.istio.api.networking.v1.ServiceEntry;
import io.fabric8.istio.api.networking.v1.VirtualService;
import io.fabric8.istio.api.networking.v1alpha3.EnvoyFilter;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link IstioRenderer} made, one list per resource kind, and the YAML files they are written
 * as: one file per kind ({@code envoyfilter.yaml}, {@code virtualservice.yaml}, …), its resources as
 * documents separated by {@code ---}, in a stable order so a re-render diffs cleanly. Immutable.
 *
 * @param notes what the render left out and why, one line each (for the user, not for Istio)
 */
public record IstioResources(List<EnvoyFilter> envoyFilters, List<DestinationRule> destinationRules,
                             List<VirtualService> virtualServices, List<ServiceEntry> serviceEntries,
                             List<io.fabric8.istio.api.networking.v1.Gateway> istioGateways,
                             List<GenericKubernetesResource> inferencePools, List<HTTPRoute> httpRoutes,
                             List<io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway> kubernetesGateways,
                             List<String> notes) {
    private static final KubernetesSerialization YAML = new KubernetesSerialization();

    public IstioResources {
        envoyFilters = List.copyOf(envoyFilters);
        destinationRules = List.copyOf(destinationRules);
        virtualServices = List.copyOf(virtualServices);
        serviceEntries = List.copyOf(serviceEntries);
        istioGateways = List.copyOf(istioGateways);
        inferencePools = List.copyOf(inferencePools);
        httpRoutes = List.copyOf(httpRoutes);
        kubernetesGateways = List.copyOf(kubernetesGateways);
        notes = List.copyOf(notes);
    }

    /** File name to YAML, for the kinds that have resources; in a fixed order. */
    public Map<String, String> files() {
        Map<String, String> files = new LinkedHashMap<>();
        put(files, "envoyfilter.yaml", envoyFilters);
        put(files, "destinationrule.yaml", destinationRules);
        put(files, "virtualservice.yaml", virtualServices);
        put(files, "serviceentry.yaml", serviceEntries);
        put(files, "gateway.yaml", istioGateways);
        put(files, "inferencepool.yaml", inferencePools);
        put(files, "httproute.yaml", httpRoutes);
        put(files, "gateway-api-gateway.yaml", kubernetesGateways);
        return files;
    }

    /**
     * Writes {@link #files()} into {@code dir} (created if missing), replacing files of the same names.
     *
     * @return the files written
     */
    public List<Path> write(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        for (Map.Entry<String, String> file : files().entrySet()) {
            Path path = dir.resolve(file.getKey());
            Files.writeString(path, file.getValue(), StandardCharsets.UTF_8);
            written.add(path);
        }
        return written;
    }

    /** Reads back the resources of one rendered file: YAML documents as {@code type}. */
    public static <T extends KubernetesResource> List<T> read(String yaml, Class<T> type) {
        List<T> resources = new ArrayList<>();
        for (String document : yaml.split("(?m)^---\\s*$")) {
            if (!document.replaceAll("(?m)^#.*$", "").isBlank()) {
                resources.add(YAML.unmarshal(document, type));
            }
        }
        return resources;
    }

    private static void put(Map<String, String> files, String name, List<? extends HasMetadata> resources) {
        if (resources.isEmpty()) {
            return;
        }
        StringBuilder yaml = new StringBuilder("# Rendered by `aimesh istio render` from the aimesh policies; edit those, not this.\n");
        for (HasMetadata resource : resources) {
            String document = YAML.asYaml(resource);
            yaml.append(document.startsWith("---") ? document : "---\n" + document);
            if (!document.endsWith("\n")) {
                yaml.append('\n');
            }
        }
        files.put(name, yaml.toString());
    }
}
