package io.aimesh.xds.server;

import static io.aimesh.xds.server.SnapshotBuilder.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.GlobalLimits;
import io.aimesh.filter.api.Settings;
import io.aimesh.filter.api.WireContract;
import io.aimesh.xds.snapshot.ResourceType;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The FilterConfig (tenants' key digests, the Redis URI) goes only to nodes that say they are an
 * ai-filter, never to an Envoy; and what a filter says back in a NACK is kept and shown redacted.
 */
final class FilterConfigAudienceTest {
    private static final String REDIS = "rediss://default:hunter2@10.0.0.5:6380";
    private static final FilterConfig CONFIG = FilterConfig.newBuilder()
            .setSettings(Settings.newBuilder().setGlobalLimits(GlobalLimits.newBuilder().setRedis(REDIS)))
            .build();

    private AdsTestServer server;

    @BeforeEach
    void start() throws Exception {
        server = AdsTestServer.start();
        server.hub.publish(snapshot().cluster("c", 1000).filterConfig(CONFIG).build());
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    @Test
    void anEnvoyNode_askingForTheFilterConfig_getsNothing_andIsCounted() throws Exception {
        try (var client = server.sotw()) {
            client.send(request(Node.newBuilder().setId("envoy-1").setCluster("edge").build()));

            client.assertNoResponse();
        }
        assertThat(server.counter("aimesh_xds_out_of_scope_requests", "filter")).isEqualTo(1);
    }

    @Test
    void aFilterNode_getsIt_andItsNackIsRecordedRedacted() throws Exception {
        Node filter = Node.newBuilder().setId("filter-1").setCluster(WireContract.FILTER_NODE_CLUSTER).build();
        try (var client = server.sotw()) {
            DiscoveryResponse response = client.send(request(filter)).next();
            assertThat(response.getResources(0).unpack(FilterConfig.class)).isEqualTo(CONFIG);

            client.send(DiscoveryRequest.newBuilder().setNode(filter).setTypeUrl(response.getTypeUrl())
                    .setResponseNonce(response.getNonce())
                    .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3)
                            .setMessage("global limits: cannot use " + REDIS + "/0"))
                    .build());

            NodeStatus.Nack nack = server.awaitNack("filter", response.getVersionInfo());
            assertThat(nack.message()).doesNotContain("hunter2").isEqualTo("global limits: cannot use rediss://****@10.0.0.5:6380/0");
        }
    }

    private static DiscoveryRequest request(Node node) {
        return DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(ResourceType.FILTER.typeUrl()).build();
    }
}
