package io.aimesh.xds.server;

import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** The status of every open ADS stream, for the admin API. Thread-safe. */
public final class NodeRegistry {
    private final ConcurrentMap<Long, NodeStatus> streams = new ConcurrentHashMap<>();

    void put(NodeStatus status) {
        streams.put(status.streamId(), status);
    }

    void remove(long streamId) {
        streams.remove(streamId);
    }

    /** The open streams' statuses, sorted by node id then stream id. */
    public List<NodeStatus> nodes() {
        return streams.values().stream()
                .sorted(Comparator.comparing(NodeStatus::nodeId).thenComparingLong(NodeStatus::streamId))
                .toList();
    }
}
