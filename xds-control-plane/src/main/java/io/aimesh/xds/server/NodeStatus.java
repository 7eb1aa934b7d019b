package io.aimesh.xds.server;

import static java.util.Objects.requireNonNull;

import io.aimesh.filter.api.WireContract;
import io.aimesh.xds.snapshot.ResourceType;
import io.aimesh.xds.snapshot.XdsSnapshot;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;

/**
 * What one ADS stream's client has: its node, the version it acknowledged per type, and its
 * last rejection. Immutable; a stream replaces its status in the {@link NodeRegistry} on change.
 *
 * @param scope the node's config scope ({@code ""} for the default one)
 * @param ackedVersions resource type (lower case) to the last version the client acknowledged
 * @param lastNack the last rejection, or {@code null}
 */
public record NodeStatus(long streamId, String nodeId, String cluster, String scope, String protocol, Instant connectedAt,
                         Map<String, String> ackedVersions, Nack lastNack) {
    public NodeStatus {
        requireNonNull(nodeId, "nodeId");
        requireNonNull(cluster, "cluster");
        requireNonNull(scope, "scope");
        requireNonNull(protocol, "protocol");
        requireNonNull(connectedAt, "connectedAt");
        ackedVersions = Map.copyOf(ackedVersions);
    }

    /** A rejected response: which type and version, the client's message, and when. */
    public record Nack(String type, String version, String message, Instant at) {
    }

    /** Where a node stands against the config it should have, worst first. */
    public enum Sync {
        /** It rejected the config it should have, and has not acknowledged it since. */
        NACKED,
        /** It has not acknowledged the config it should have (yet, or ever): a push in flight, or a node left behind. */
        STALE,
        /** It acknowledged the current version of every type it acknowledged at all, and at least one. */
        SYNCED
    }

    /** {@code ai-filter} for a filter replica, {@code envoy} for every other node. */
    public String kind() {
        return WireContract.FILTER_NODE_CLUSTER.equals(cluster) ? "ai-filter" : "envoy";
    }

    /** The version of each type this node holds that it should hold: its scope's, for the types it acknowledged. */
    public Map<String, String> expected(XdsSnapshot snapshot) {
        var versions = new java.util.TreeMap<String, String>();
        if (snapshot != null) {
            for (ResourceType type : ResourceType.values()) {
                String label = type.name().toLowerCase(Locale.ROOT);
                if (ackedVersions.containsKey(label)) {
                    versions.put(label, snapshot.version(type));
                }
            }
        }
        return versions;
    }

    /**
     * Against its scope's current snapshot ({@code null} when the scope has none: nothing it holds is
     * current). A rejection of an older version does not count once a newer one is acknowledged.
     */
    public Sync sync(XdsSnapshot snapshot) {
        Map<String, String> expected = expected(snapshot);
        if (lastNack != null && snapshot != null) {
            ResourceType type = ResourceType.valueOf(lastNack.type().toUpperCase(Locale.ROOT));
            String current = snapshot.version(type);
            if (current != null && current.equals(lastNack.version()) && !current.equals(ackedVersions.get(lastNack.type()))) {
                return Sync.NACKED;
            }
        }
        if (snapshot == null || ackedVersions.isEmpty() || !expected.equals(ackedVersions)) {
            return Sync.STALE;
        }
        return Sync.SYNCED;
    }

    NodeStatus withAck(String type, String version) {
        var versions = new java.util.TreeMap<>(ackedVersions);
        versions.put(type, version);
        return new NodeStatus(streamId, nodeId, cluster, scope, protocol, connectedAt, versions, lastNack);
    }

    NodeStatus withNack(Nack nack) {
        return new NodeStatus(streamId, nodeId, cluster, scope, protocol, connectedAt, ackedVersions, nack);
    }
}
