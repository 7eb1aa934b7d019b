package io.aimesh.xds.snapshot;

/**
 * The xDS resource types the control plane serves, in the order a change is pushed:
 * clusters and their endpoints before the listeners and routes that use them
 * (make-before-break, as the xDS protocol's "eventual consistency considerations" ask).
 */
public enum ResourceType {
    CLUSTER("type.googleapis.com/envoy.config.cluster.v3.Cluster", true),
    ENDPOINT("type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", false),
    LISTENER("type.googleapis.com/envoy.config.listener.v3.Listener", true),
    ROUTE("type.googleapis.com/envoy.config.route.v3.RouteConfiguration", false),
    /** The ai-filter's compiled configuration; only filter replicas subscribe to it. */
    FILTER("type.googleapis.com/aimesh.filter.v1alpha1.FilterConfig", true);

    private final String typeUrl;
    private final boolean wildcardByDefault;

    ResourceType(String typeUrl, boolean wildcardByDefault) {
        this.typeUrl = typeUrl;
        this.wildcardByDefault = wildcardByDefault;
    }

    public String typeUrl() {
        return typeUrl;
    }

    /** Whether a request naming no resources asks for all of them (LDS, CDS) rather than none (RDS, EDS). */
    public boolean wildcardByDefault() {
        return wildcardByDefault;
    }

    /** Whether a change to this type must wait until the client has acknowledged the clusters and endpoints. */
    public boolean gatedOnClusters() {
        return this == LISTENER || this == ROUTE;
    }

    /** Returns the type for {@code typeUrl}, or {@code null} when this server does not serve it. */
    public static ResourceType of(String typeUrl) {
        for (ResourceType type : values()) {
            if (type.typeUrl.equals(typeUrl)) {
                return type;
            }
        }
        return null;
    }
}
