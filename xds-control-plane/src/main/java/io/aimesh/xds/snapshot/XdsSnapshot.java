package io.aimesh.xds.snapshot;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An immutable set of xDS resources of every served type, with a version per resource and
 * per type (a hash over the type's resource versions). Safe to share between threads.
 */
public final class XdsSnapshot {
    private final Map<ResourceType, Map<String, XdsResource>> resources;
    private final Map<ResourceType, String> versions;
    private final String version;

    private XdsSnapshot(Map<ResourceType, Map<String, XdsResource>> resources) {
        this.resources = resources;
        this.versions = new EnumMap<>(ResourceType.class);
        StringBuilder all = new StringBuilder();
        for (ResourceType type : ResourceType.values()) {
            StringBuilder text = new StringBuilder();
            resources.get(type).forEach((name, r) -> text.append(name).append('=').append(r.version()).append('\n'));
            String typeVersion = XdsResource.hash(text.toString().getBytes(StandardCharsets.UTF_8));
            versions.put(type, typeVersion);
            all.append(typeVersion);
        }
        this.version = XdsResource.hash(all.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Builds a snapshot; resource names must be unique per type. */
    public static XdsSnapshot of(Map<ResourceType, ? extends Collection<XdsResource>> byType) {
        requireNonNull(byType, "byType");
        Map<ResourceType, Map<String, XdsResource>> resources = new EnumMap<>(ResourceType.class);
        for (ResourceType type : ResourceType.values()) {
            Map<String, XdsResource> named = new TreeMap<>();
            Collection<XdsResource> given = byType.get(type);
            for (XdsResource r : given == null ? List.<XdsResource>of() : given) {
                if (named.put(r.name(), r) != null) {
                    throw new IllegalArgumentException("duplicate " + type + " resource: " + r.name());
                }
            }
            resources.put(type, Collections.unmodifiableMap(named));
        }
        return new XdsSnapshot(resources);
    }

    public static XdsSnapshot empty() {
        return of(Map.of());
    }

    /** Resources of {@code type}, sorted by name. */
    public Map<String, XdsResource> resources(ResourceType type) {
        return resources.get(type);
    }

    /** Returns the resource, or {@code null}. */
    public XdsResource resource(ResourceType type, String name) {
        return resources.get(type).get(name);
    }

    /** The version of all resources of {@code type}; changes exactly when one of them does. */
    public String version(ResourceType type) {
        return versions.get(type);
    }

    /** A version over all types, for logs and the admin API. */
    public String version() {
        return version;
    }

    @Override
    public String toString() {
        return "XdsSnapshot{" + version + ", clusters=" + resources.get(ResourceType.CLUSTER).size()
                + ", listeners=" + resources.get(ResourceType.LISTENER).size() + '}';
    }
}
