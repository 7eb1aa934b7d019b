package io.aimesh.xds.server;

import static io.aimesh.xds.server.SnapshotBuilder.snapshot;
import static io.aimesh.xds.snapshot.ResourceType.CLUSTER;
import static io.aimesh.xds.snapshot.ResourceType.ENDPOINT;
import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.WireContract;
import io.aimesh.xds.server.NodeStatus.Sync;
import io.aimesh.xds.snapshot.XdsSnapshot;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeStatusTest {
    private static final XdsSnapshot OLD = snapshot().cluster("a", 1000).endpoints("a", 9000).build();
    private static final XdsSnapshot NEW = snapshot().cluster("a", 2000).endpoints("a", 9000).build();

    private static NodeStatus envoy() {
        return new NodeStatus(1, "envoy-1", "gateway", "", "sotw", Instant.EPOCH, Map.of(), null);
    }

    @Test
    void aNodeIsSynced_onlyWhenEveryTypeItHoldsIsItsScopesCurrentVersion() {
        NodeStatus node = envoy().withAck("cluster", OLD.version(CLUSTER)).withAck("endpoint", OLD.version(ENDPOINT));

        assertThat(node.sync(OLD)).isEqualTo(Sync.SYNCED);
        assertThat(node.sync(NEW)).as("the clusters changed; the node still holds the old ones").isEqualTo(Sync.STALE);
        assertThat(node.expected(NEW)).containsEntry("cluster", NEW.version(CLUSTER)).containsOnlyKeys("cluster", "endpoint");
        assertThat(envoy().sync(OLD)).as("nothing acknowledged yet").isEqualTo(Sync.STALE);
        assertThat(node.sync(null)).as("its scope has no config").isEqualTo(Sync.STALE);
    }

    @Test
    void aRejectionOfTheCurrentVersionIsNacked_untilANewerOneIsAcknowledged() {
        NodeStatus node = envoy().withAck("cluster", OLD.version(CLUSTER))
                .withNack(new NodeStatus.Nack("cluster", NEW.version(CLUSTER), "bad cluster", Instant.EPOCH));

        assertThat(node.sync(NEW)).isEqualTo(Sync.NACKED);
        assertThat(node.sync(OLD)).as("the rejected version is no longer served: the old one is current again")
                .isEqualTo(Sync.SYNCED);
        assertThat(node.withAck("cluster", NEW.version(CLUSTER)).sync(NEW)).isEqualTo(Sync.SYNCED);
    }

    @Test
    void kind_isTheFilterForTheFiltersNodeCluster() {
        assertThat(envoy().kind()).isEqualTo("envoy");
        assertThat(new NodeStatus(2, "f", WireContract.FILTER_NODE_CLUSTER, "team-a", "delta", Instant.EPOCH, Map.of(), null).kind())
                .isEqualTo("ai-filter");
    }
}
