package io.aimesh.xds.server;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;

/**
 * What one ADS stream's client has: its node, the version it acknowledged per type, and its
 * last rejection. Immutable; a stream replaces its status in the {@link NodeRegistry} on change.
 *
 * @param ackedVersions resource type (lower case) to the last version the client acknowledged
 * @param lastNack the last rejection, or {@code null}
 */
public record NodeStatus(long streamId, String nodeId, String cluster, String protocol, Instant connectedAt,
                         Map<String, String> ackedVersions, Nack lastNack) {
    public NodeStatus {
        requireNonNull(nodeId, "nodeId");
        requireNonNull(cluster, "cluster");
        requireNonNull(protocol, "protocol");
        requireNonNull(connectedAt, "connectedAt");
        ackedVersions = Map.copyOf(ackedVersions);
    }

    /** A rejected response: which type and version, the client's message, and when. */
    public record Nack(String type, String version, String message, Instant at) {
    }

    NodeStatus withAck(String type, String version) {
        var versions = new java.util.TreeMap<>(ackedVersions);
        versions.put(type, version);
        return new NodeStatus(streamId, nodeId, cluster, protocol, connectedAt, versions, lastNack);
    }

    NodeStatus withNack(Nack nack) {
        return new NodeStatus(streamId, nodeId, cluster, protocol, connectedAt, ackedVersions, nack);
    }
}
