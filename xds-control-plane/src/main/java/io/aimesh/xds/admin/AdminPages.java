package io.aimesh.xds.admin;

import io.aimesh.internal.Secrets;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.aimesh.xds.server.NodeStatus;
import io.aimesh.xds.snapshot.ResourceType;
import io.aimesh.xds.snapshot.XdsResource;
import io.aimesh.xds.snapshot.XdsSnapshot;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders the control plane's state as the JSON of {@code /config_dump} and {@code /nodes}. */
public final class AdminPages {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final JsonFormat.Printer PROTO = JsonFormat.printer()
            .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder()
                    .add(HttpConnectionManager.getDescriptor())
                    .add(Router.getDescriptor())
                    .add(io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor.getDescriptor())
                    .add(io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication.getDescriptor())
                    .add(io.envoyproxy.envoy.extensions.filters.http.json_to_metadata.v3.JsonToMetadata.getDescriptor())
                    .add(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor())
                    .add(io.envoyproxy.envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3
                            .ClientSideWeightedRoundRobin.getDescriptor())
                    .add(io.envoyproxy.envoy.extensions.filters.http.header_mutation.v3.HeaderMutation.getDescriptor())
                    .add(io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute.getDescriptor())
                    .add(com.github.xds.type.v3.TypedStruct.getDescriptor())
                    .build());

    private AdminPages() {
    }

    /**
     * What the nodes of each config scope receive: group {@code default} for the default scope, else
     * the scope's name.
     *
     * @param scopes the served snapshot of each scope, empty before the first valid policy load
     */
    public static String configDump(Map<String, XdsSnapshot> scopes, Map<String, Object> policy, List<?> rollouts) {
        ObjectNode root = JSON.createObjectNode();
        root.set("policy", JSON.valueToTree(policy));
        root.set("rollouts", JSON.valueToTree(rollouts));
        ObjectNode groups = root.putObject("groups");
        scopes.forEach((scope, snapshot) -> {
            ObjectNode group = groups.putObject(scope.isEmpty() ? "default" : scope);
            group.put("version", snapshot.version());
            for (ResourceType type : ResourceType.values()) {
                ObjectNode typeNode = group.putObject(type.name().toLowerCase(Locale.ROOT));
                typeNode.put("version", snapshot.version(type));
                ArrayNode items = typeNode.putArray("resources");
                for (XdsResource resource : snapshot.resources(type).values()) {
                    ObjectNode item = items.addObject();
                    item.put("name", resource.name());
                    item.put("version", resource.version());
                    item.set("resource", proto(resource));
                }
            }
        });
        return write(root);
    }

    /**
     * The open ADS streams with their acknowledged versions, the versions their scope serves, where
     * they stand ({@link NodeStatus.Sync}) and their last rejection; and the policy status.
     */
    public static String nodes(List<NodeStatus> nodes, Map<String, XdsSnapshot> scopes, Map<String, Object> policy) {
        ObjectNode root = JSON.createObjectNode();
        root.set("policy", JSON.valueToTree(policy));
        ArrayNode list = root.putArray("nodes");
        for (NodeStatus node : nodes) {
            ObjectNode item = list.addObject();
            item.put("id", node.nodeId());
            item.put("cluster", node.cluster());
            item.put("kind", node.kind());
            item.put("scope", node.scope());
            item.put("stream", node.streamId());
            item.put("protocol", node.protocol());
            item.put("connectedAt", node.connectedAt().toString());
            item.set("acked", JSON.valueToTree(node.ackedVersions()));
            XdsSnapshot served = scopes.get(node.scope());
            item.set("expected", JSON.valueToTree(node.expected(served)));
            item.put("sync", node.sync(served).name());
            if (node.lastNack() == null) {
                item.putNull("lastNack");
            } else {
                ObjectNode nack = item.putObject("lastNack");
                nack.put("type", node.lastNack().type());
                nack.put("version", node.lastNack().version());
                nack.put("error", node.lastNack().message());
                nack.put("at", node.lastNack().at().toString());
            }
        }
        return write(root);
    }

    /** The dashboard's numbers ({@code /dashboard.json}): the traffic view and the nodes as {@link #nodes} shows them. */
    public static String dashboard(io.aimesh.xds.dashboard.DashboardView view, List<NodeStatus> nodes,
                                   Map<String, XdsSnapshot> scopes, Map<String, Object> policy) {
        ObjectNode root = JSON.createObjectNode();
        root.set("traffic", JSON.valueToTree(view));
        try {
            root.set("nodes", JSON.readTree(nodes(nodes, scopes, policy)).path("nodes"));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        root.set("policy", JSON.valueToTree(policy));
        return write(root);
    }

    /** Where each served resource is written ({@code /policy_sources}): {@code Kind/name} to {@code file:line:column}. */
    public static String sources(Map<String, io.aimesh.policy.Location> sources) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode map = root.putObject("sources");
        new java.util.TreeMap<>(sources).forEach((resource, location) -> map.put(resource, location.toString()));
        return write(root);
    }

    /** A plain map for the policy status, shared by both pages. */
    public static Map<String, Object> policy(String servingVersion, Instant servingSince, Instant lastRejected,
                                             List<String> errors) {
        var map = new java.util.LinkedHashMap<String, Object>();
        map.put("status", servingVersion == null ? "not-loaded" : lastRejected == null ? "applied" : "rejected");
        map.put("servingVersion", servingVersion);
        map.put("servingSince", servingSince == null ? null : servingSince.toString());
        map.put("lastRejected", lastRejected == null ? null : lastRejected.toString());
        map.put("errors", errors);
        return map;
    }

    private static com.fasterxml.jackson.databind.JsonNode proto(XdsResource resource) {
        try {
            return JSON.readTree(PROTO.print(resource.message()));
        } catch (InvalidProtocolBufferException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot render " + resource.name(), e);
        }
    }

    /** Every page goes out redacted: a FilterConfig's Redis URI or a NACK may carry a password. */
    private static String write(ObjectNode root) {
        try {
            return Secrets.redact(JSON.writeValueAsString(root)) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
