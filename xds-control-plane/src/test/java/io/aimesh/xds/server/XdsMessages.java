package io.aimesh.xds.server;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.aimesh.xds.snapshot.ResourceType;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.List;

/** Decoding of the resources in responses, shared by the SotW and delta tests. */
final class XdsMessages {
    static final Node NODE = Node.newBuilder().setId("node-1").setCluster("edge").build();

    private XdsMessages() {
    }

    /** The names of packed resources, read from their content (not from the response envelope). */
    static List<String> names(List<Any> resources) {
        return resources.stream().map(XdsMessages::name).toList();
    }

    private static String name(Any any) {
        ResourceType type = ResourceType.of(any.getTypeUrl());
        try {
            if (type == ResourceType.CLUSTER) {
                return any.unpack(Cluster.class).getName();
            } else if (type == ResourceType.ENDPOINT) {
                return any.unpack(ClusterLoadAssignment.class).getClusterName();
            } else if (type == ResourceType.LISTENER) {
                return any.unpack(Listener.class).getName();
            } else if (type == ResourceType.ROUTE) {
                return any.unpack(RouteConfiguration.class).getName();
            }
            throw new AssertionError("no name decoder for " + any.getTypeUrl());
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError("undecodable " + any.getTypeUrl(), e);
        }
    }
}
