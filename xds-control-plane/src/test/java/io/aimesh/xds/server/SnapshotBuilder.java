package io.aimesh.xds.server;

import com.google.protobuf.util.Durations;
import io.aimesh.xds.snapshot.ResourceType;
import io.aimesh.xds.snapshot.XdsResource;
import io.aimesh.xds.snapshot.XdsSnapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Builds small hand-made snapshots whose content (and so version) is set by a few numbers:
 * a cluster by its connect timeout, an endpoint assignment by its port, a route by its target.
 */
final class SnapshotBuilder {
    private final Map<ResourceType, List<XdsResource>> resources = new EnumMap<>(ResourceType.class);

    static SnapshotBuilder snapshot() {
        return new SnapshotBuilder();
    }

    SnapshotBuilder cluster(String name, int connectTimeoutMillis) {
        return add(ResourceType.CLUSTER, XdsResource.of(name, Cluster.newBuilder()
                .setName(name)
                .setType(Cluster.DiscoveryType.EDS)
                .setConnectTimeout(Durations.fromMillis(connectTimeoutMillis))
                .build()));
    }

    SnapshotBuilder endpoints(String cluster, int port) {
        return add(ResourceType.ENDPOINT, XdsResource.of(cluster, ClusterLoadAssignment.newBuilder()
                .setClusterName(cluster)
                .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                        .setEndpoint(Endpoint.newBuilder().setAddress(address(port)))))
                .build()));
    }

    SnapshotBuilder listener(String name, int port) {
        return add(ResourceType.LISTENER, XdsResource.of(name, Listener.newBuilder()
                .setName(name)
                .setAddress(address(port))
                .build()));
    }

    SnapshotBuilder route(String name, String cluster) {
        return add(ResourceType.ROUTE, XdsResource.of(name, RouteConfiguration.newBuilder()
                .setName(name)
                .addVirtualHosts(VirtualHost.newBuilder().setName("all").addDomains("*").addRoutes(Route.newBuilder()
                        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                        .setRoute(RouteAction.newBuilder().setCluster(cluster))))
                .build()));
    }

    SnapshotBuilder filterConfig(io.aimesh.filter.api.FilterConfig config) {
        return add(ResourceType.FILTER, XdsResource.of("aimesh", config));
    }

    XdsSnapshot build() {
        return XdsSnapshot.of(resources);
    }

    private SnapshotBuilder add(ResourceType type, XdsResource resource) {
        resources.computeIfAbsent(type, t -> new ArrayList<>()).add(resource);
        return this;
    }

    private static Address address(int port) {
        return Address.newBuilder()
                .setSocketAddress(SocketAddress.newBuilder().setAddress("127.0.0.1").setPortValue(port))
                .build();
    }
}
