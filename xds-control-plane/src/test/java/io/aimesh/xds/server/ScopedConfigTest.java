package io.aimesh.xds.server;

import static io.aimesh.xds.server.SnapshotBuilder.snapshot;
import static io.aimesh.xds.snapshot.ResourceType.CLUSTER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.aimesh.xds.snapshot.XdsSnapshot;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Per-node config scoping, over state-of-the-world and delta: a node gets its own scope's resources only. */
final class ScopedConfigTest {
    private static final XdsSnapshot TEAM_A = snapshot().cluster("a1", 1000).cluster("a2", 1000).build();
    private static final XdsSnapshot TEAM_B = snapshot().cluster("b1", 1000).build();
    private static final XdsSnapshot DEFAULT = snapshot().cluster("d", 1000).build();

    private AdsTestServer server;

    @BeforeEach
    void start() throws Exception {
        server = AdsTestServer.start();
        server.hub.publish(Map.of("team-a", TEAM_A, "team-b", TEAM_B, "", DEFAULT));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    @Test
    void sotw_aNodeGetsItsOwnScope_byAimeshOrIstioMetadata_orTheDefault() throws Exception {
        assertThat(sotwClusters(node("a", Map.of("aimesh.io/namespace", "team-a")))).containsExactlyInAnyOrder("a1", "a2");
        assertThat(sotwClusters(node("b", Map.of("NAMESPACE", "team-b")))).containsExactly("b1");
        assertThat(sotwClusters(node("plain", Map.of()))).containsExactly("d");
        // Every Istio proxy sends its pod's namespace: one with no policies belongs in the default scope.
        assertThat(sotwClusters(node("istio", Map.of("NAMESPACE", "default")))).containsExactly("d");
        // An explicit claim is taken as made: no config there, nothing sent.
        try (var client = server.sotw()) {
            client.send(DiscoveryRequest.newBuilder().setNode(node("x", Map.of("aimesh.io/namespace", "default")))
                    .setTypeUrl(CLUSTER.typeUrl()).build());
            client.assertNoResponse();
        }
    }

    @Test
    void sotw_namingAnotherScopesResource_getsNothing_andIsCounted() throws Exception {
        try (var client = server.sotw()) {
            client.send(DiscoveryRequest.newBuilder().setNode(node("a", Map.of("aimesh.io/namespace", "team-a")))
                    .setTypeUrl(CLUSTER.typeUrl()).addResourceNames("a1").addResourceNames("b1").build());

            DiscoveryResponse response = client.next();
            assertThat(XdsMessages.names(response.getResourcesList())).containsExactly("a1");
            assertThat(server.counter("aimesh_xds_out_of_scope_requests", "cluster")).isEqualTo(1);
        }
    }

    @Test
    void delta_aNodeGetsItsOwnScope_andNamingAnotherScopesResourceGetsNothing() throws Exception {
        Node node = node("a", Map.of("aimesh.io/namespace", "team-a"));
        try (var client = server.delta()) {
            client.send(DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CLUSTER.typeUrl()).build());
            DeltaDiscoveryResponse wildcard = client.next();
            assertThat(wildcard.getResourcesList()).extracting(Resource::getName).containsExactlyInAnyOrder("a1", "a2");
            client.send(DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CLUSTER.typeUrl())
                    .setResponseNonce(wildcard.getNonce()).build());
            server.awaitAcked("cluster", TEAM_A.version(CLUSTER));

            client.send(DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CLUSTER.typeUrl())
                    .addResourceNamesSubscribe("b1").build());

            await().atMost(AdsTestServer.TIMEOUT)
                    .until(() -> server.counter("aimesh_xds_out_of_scope_requests", "cluster") == 1);
            client.assertNoResponse();
        }
    }

    @Test
    void aNodeOfAScopeWithNoConfig_getsNothing_notAnEmptyConfig() throws Exception {
        try (var client = server.sotw()) {
            client.send(DiscoveryRequest.newBuilder().setNode(node("z", Map.of("aimesh.io/namespace", "team-z")))
                    .setTypeUrl(CLUSTER.typeUrl()).build());

            client.assertNoResponse();
        }
    }

    private List<String> sotwClusters(Node node) throws Exception {
        try (var client = server.sotw()) {
            client.send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CLUSTER.typeUrl()).build());
            return XdsMessages.names(client.next().getResourcesList());
        }
    }

    private static Node node(String id, Map<String, String> metadata) {
        Struct.Builder fields = Struct.newBuilder();
        metadata.forEach((key, value) -> fields.putFields(key, Value.newBuilder().setStringValue(value).build()));
        return Node.newBuilder().setId(id).setCluster("edge").setMetadata(fields).build();
    }
}
