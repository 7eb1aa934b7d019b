package io.aimesh.xds.server;

import static io.aimesh.xds.server.SnapshotBuilder.snapshot;
import static io.aimesh.xds.server.XdsMessages.NODE;
import static io.aimesh.xds.server.XdsMessages.names;
import static io.aimesh.xds.snapshot.ResourceType.CLUSTER;
import static io.aimesh.xds.snapshot.ResourceType.ENDPOINT;
import static io.aimesh.xds.snapshot.ResourceType.LISTENER;
import static io.aimesh.xds.snapshot.ResourceType.ROUTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.xds.snapshot.ResourceType;
import io.aimesh.xds.snapshot.XdsSnapshot;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** State-of-the-world ADS over a real gRPC server, driven request by request as Envoy would. */
final class SotwStreamTest {
    /** Clusters a and b, endpoints for a, listener l and route table r pointing at a. */
    private static final XdsSnapshot BASE = snapshot()
            .cluster("a", 1000).cluster("b", 1000).endpoints("a", 8001).listener("l", 10000).route("r", "a").build();

    private AdsTestServer server;
    private AdsClientStream<DiscoveryRequest, DiscoveryResponse> client;

    @BeforeEach
    void start() throws Exception {
        server = AdsTestServer.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        server.close();
    }

    @Test
    void firstResponse_carriesTypeVersionNonceAndAllClusters() throws Exception {
        server.hub.publish(BASE);

        DiscoveryResponse response = send(request(CLUSTER)).next(CLUSTER);

        assertThat(response.getVersionInfo()).isEqualTo(BASE.version(CLUSTER));
        assertThat(response.getNonce()).isNotEmpty();
        assertThat(response.getResourcesList()).containsExactly(
                BASE.resource(CLUSTER, "a").packed(), BASE.resource(CLUSTER, "b").packed());
    }

    @Test
    void ack_isFollowedByNothingUntilSnapshotChanges() throws Exception {
        server.hub.publish(BASE);
        DiscoveryResponse first = send(request(CLUSTER)).next(CLUSTER);

        send(ack(first));

        server.awaitAcked("cluster", BASE.version(CLUSTER));
        client().assertNoResponse();
    }

    @Test
    void publishOfChangedClusters_sendsNewVersionWithNewNonce() throws Exception {
        server.hub.publish(BASE);
        DiscoveryResponse first = send(request(CLUSTER)).next(CLUSTER);
        send(ack(first));
        server.awaitAcked("cluster", BASE.version(CLUSTER));
        XdsSnapshot changed = snapshot().cluster("a", 2000).cluster("b", 1000).build();

        server.hub.publish(changed);

        DiscoveryResponse second = client().next();
        assertThat(second.getTypeUrl()).isEqualTo(CLUSTER.typeUrl());
        assertThat(second.getVersionInfo()).isEqualTo(changed.version(CLUSTER)).isNotEqualTo(first.getVersionInfo());
        assertThat(second.getNonce()).isNotEqualTo(first.getNonce());
        assertThat(second.getResourcesList()).contains(changed.resource(CLUSTER, "a").packed());
    }

    @Test
    void republishWithUnchangedClusters_sendsNothing() throws Exception {
        server.hub.publish(BASE);
        send(ack(send(request(CLUSTER)).next(CLUSTER)));
        server.awaitAcked("cluster", BASE.version(CLUSTER));

        // Equal content built anew, then a change to a type this client does not subscribe to.
        server.hub.publish(snapshot()
                .cluster("a", 1000).cluster("b", 1000).endpoints("a", 8001).listener("l", 10000).route("r", "a").build());
        server.hub.publish(snapshot()
                .cluster("a", 1000).cluster("b", 1000).endpoints("a", 8001).listener("l", 10001).route("r", "b").build());

        client().assertNoResponse();
        assertThat(server.counter("aimesh_xds_pushes", "cluster")).isEqualTo(1);
    }

    @Test
    void nack_isRecordedAndSameVersionIsNotResentUntilVersionChanges() throws Exception {
        server.hub.publish(BASE);
        send(ack(send(request(CLUSTER)).next(CLUSTER)));
        server.awaitAcked("cluster", BASE.version(CLUSTER));
        XdsSnapshot bad = snapshot().cluster("a", 2000).cluster("b", 1000).build();
        server.hub.publish(bad);
        DiscoveryResponse rejected = client().next();

        send(nack(rejected, BASE.version(CLUSTER), "cluster a: connect_timeout too long"));

        NodeStatus.Nack nack = server.awaitNack("cluster", bad.version(CLUSTER));
        assertThat(nack.message()).isEqualTo("cluster a: connect_timeout too long");
        assertThat(server.node().ackedVersions()).containsEntry("cluster", BASE.version(CLUSTER));
        assertThat(server.counter("aimesh_xds_nacks", "cluster")).isEqualTo(1);
        // A new snapshot whose clusters are still the rejected version makes the stream diff again.
        server.hub.publish(snapshot().cluster("a", 2000).cluster("b", 1000).listener("l", 10001).build());
        client().assertNoResponse();

        XdsSnapshot fixed = snapshot().cluster("a", 1500).cluster("b", 1000).build();
        server.hub.publish(fixed);

        DiscoveryResponse resent = client().next();
        assertThat(resent.getVersionInfo()).isEqualTo(fixed.version(CLUSTER));
        assertThat(resent.getResourcesList()).contains(fixed.resource(CLUSTER, "a").packed());
    }

    @Test
    void nackedVersion_isNotSentAgain_evenAfterAnotherVersionWasAccepted() throws Exception {
        server.hub.publish(BASE);
        send(ack(send(request(CLUSTER)).next(CLUSTER)));
        XdsSnapshot bad = snapshot().cluster("a", 2000).build();
        server.hub.publish(bad);
        send(nack(next(CLUSTER), BASE.version(CLUSTER), "rejected"));
        server.awaitNack("cluster", bad.version(CLUSTER));
        XdsSnapshot good = snapshot().cluster("a", 1500).build();
        server.hub.publish(good);
        send(ack(next(CLUSTER)));
        server.awaitAcked("cluster", good.version(CLUSTER));

        server.hub.publish(bad);

        client().assertNoResponse();
        assertThat(server.counter("aimesh_xds_pushes", "cluster")).isEqualTo(3);
    }

    @Test
    void staleNonce_isIgnored() throws Exception {
        server.hub.publish(BASE);
        DiscoveryResponse superseded = send(request(CLUSTER)).next(CLUSTER);
        XdsSnapshot changed = snapshot().cluster("a", 2000).build();
        server.hub.publish(changed);
        DiscoveryResponse latest = client().next();

        send(ack(superseded));
        send(nack(superseded, "", "late rejection of an old version"));
        send(request(CLUSTER).toBuilder().setResponseNonce(superseded.getNonce()).addResourceNames("b").build());
        client().assertNoResponse();
        send(ack(latest));

        // Requests are handled in order: once the ACK of the latest nonce shows, the stale ones were seen.
        server.awaitAcked("cluster", changed.version(CLUSTER));
        assertThat(server.node().ackedVersions()).hasSize(1);
        assertThat(server.node().lastNack()).isNull();
        assertThat(server.counter("aimesh_xds_acks", "cluster")).isEqualTo(1);
        assertThat(server.counter("aimesh_xds_nacks", "cluster")).isZero();
    }

    @Test
    void endpointResponses_carryOnlySubscribedNames_andSubscriptionChangeTriggersResponse() throws Exception {
        XdsSnapshot three = snapshot().endpoints("a", 8001).endpoints("b", 8002).endpoints("c", 8003).build();
        server.hub.publish(three);

        DiscoveryResponse ab = send(request(ENDPOINT, "a", "b", "missing")).next(ENDPOINT);
        assertThat(names(ab.getResourcesList())).containsExactly("a", "b");
        assertThat(ab.getVersionInfo()).isEqualTo(three.version(ENDPOINT));

        send(ack(ab, "a", "b", "missing"));
        client().assertNoResponse();

        send(ack(ab, "a", "b", "c"));
        DiscoveryResponse abc = client().next();
        assertThat(names(abc.getResourcesList())).containsExactly("a", "b", "c");
        assertThat(abc.getNonce()).isNotEqualTo(ab.getNonce());

        send(ack(abc, "c"));
        assertThat(names(client().next().getResourcesList())).containsExactly("c");
    }

    @Test
    void routeResponses_carryOnlySubscribedNames() throws Exception {
        XdsSnapshot two = snapshot().route("r1", "a").route("r2", "b").build();
        server.hub.publish(two);

        DiscoveryResponse r2 = send(request(ROUTE, "r2")).next(ROUTE);

        assertThat(r2.getResourcesList()).containsExactly(two.resource(ROUTE, "r2").packed());
        send(ack(r2, "r1", "r2"));
        assertThat(names(client().next().getResourcesList())).containsExactly("r1", "r2");
    }

    @Test
    void makeBeforeBreak_routeChangeWaitsForClusterAck() throws Exception {
        server.hub.publish(BASE);
        Map<ResourceType, DiscoveryResponse> synced = syncAll(BASE);
        XdsSnapshot next = snapshot()
                .cluster("a", 1000).cluster("b", 1000).cluster("c", 1000).endpoints("a", 8001)
                .listener("l", 10000).route("r", "c").build();

        server.hub.publish(next);

        DiscoveryResponse clusters = client().next();
        assertThat(clusters.getTypeUrl()).isEqualTo(CLUSTER.typeUrl());
        assertThat(clusters.getVersionInfo()).isEqualTo(next.version(CLUSTER));
        client().assertNoResponse(); // the route table points at c, which the client may not have yet

        send(ack(clusters));

        DiscoveryResponse routes = client().next();
        assertThat(routes.getTypeUrl()).isEqualTo(ROUTE.typeUrl());
        assertThat(routes.getVersionInfo()).isEqualTo(next.version(ROUTE));
        assertThat(routes.getNonce()).isNotEqualTo(synced.get(ROUTE).getNonce());
        send(ack(routes, "r"));
        client().assertNoResponse(); // the listener did not change
    }

    @Test
    void makeBeforeBreak_routeChangeWaitsForEndpointsOfNewClusters() throws Exception {
        server.hub.publish(BASE);
        syncAll(BASE);
        XdsSnapshot next = snapshot()
                .cluster("a", 1000).cluster("b", 1000).cluster("c", 1000).endpoints("a", 8001).endpoints("c", 8003)
                .listener("l", 10001).route("r", "c").build();

        server.hub.publish(next);

        DiscoveryResponse clusters = next(CLUSTER);
        DiscoveryResponse endpoints = next(ENDPOINT); // the type's version changed; still only a is subscribed
        assertThat(names(endpoints.getResourcesList())).containsExactly("a");
        send(ack(clusters));
        client().assertNoResponse();
        send(ack(endpoints, "a", "c")); // Envoy subscribes to c's endpoints once it has cluster c
        DiscoveryResponse withC = next(ENDPOINT);
        assertThat(names(withC.getResourcesList())).containsExactly("a", "c");
        client().assertNoResponse();

        send(ack(withC, "a", "c"));

        DiscoveryResponse listeners = next(LISTENER);
        DiscoveryResponse routes = next(ROUTE);
        assertThat(listeners.getVersionInfo()).isEqualTo(next.version(LISTENER));
        assertThat(routes.getVersionInfo()).isEqualTo(next.version(ROUTE));
    }

    @Test
    void makeBeforeBreak_endpointsNobodySubscribesTo_doNotHoldBackRoutes() throws Exception {
        XdsSnapshot withOrphan = snapshot()
                .cluster("a", 1000).endpoints("a", 8001).endpoints("orphan", 8009).listener("l", 10000).build();
        server.hub.publish(withOrphan);
        send(ack(send(request(CLUSTER)).next(CLUSTER)));
        send(ack(send(request(ENDPOINT, "a")).next(ENDPOINT), "a"));

        DiscoveryResponse listeners = send(request(LISTENER)).next(LISTENER);

        assertThat(listeners.getVersionInfo()).isEqualTo(withOrphan.version(LISTENER));
    }

    @Test
    void firstRequestWithoutNode_failsStreamWithInvalidArgument() throws Exception {
        server.hub.publish(BASE);

        client().send(DiscoveryRequest.newBuilder().setTypeUrl(CLUSTER.typeUrl()).build());

        Status status = client().awaitClosed();
        assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(status.getDescription()).contains("node.id");
        assertThat(server.registry.nodes()).isEmpty();
    }

    @Test
    void firstRequestWithEmptyNodeId_failsStreamWithInvalidArgument() throws Exception {
        server.hub.publish(BASE);

        client().send(request(CLUSTER).toBuilder().setNode(Node.newBuilder().setCluster("edge")).build());

        assertThat(client().awaitClosed().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(server.connectedStreams()).isZero();
    }

    @Test
    void nothingIsSentBeforeFirstPublish_andFirstPublishReachesWaitingStream() throws Exception {
        send(request(CLUSTER));
        assertThat(server.node().nodeId()).isEqualTo("node-1");
        client().assertNoResponse();

        server.hub.publish(BASE);

        assertThat(next(CLUSTER).getVersionInfo()).isEqualTo(BASE.version(CLUSTER));
    }

    @Test
    void streamFailingOnServer_isRemovedFromRegistry() throws Exception {
        server.hub.publish(BASE);
        server.failNextSend();

        send(request(CLUSTER));

        assertThat(client().awaitClosed().getCode()).isEqualTo(Status.Code.INTERNAL);
        await().atMost(AdsTestServer.TIMEOUT).until(() -> server.registry.nodes().isEmpty());
        assertThat(server.connectedStreams()).isZero();
    }

    /** Regression (fixed in 69c57ad): the stream kept the snapshot read when the call opened and missed this publish. */
    @Test
    void publishBetweenStreamOpenAndFirstRequest_isWhatFirstResponseCarries() throws Exception {
        server.hub.publish(BASE);
        client();
        server.awaitStreamsCreated(1);
        XdsSnapshot newer = snapshot().cluster("a", 2000).build();
        server.hub.publish(newer);

        send(request(CLUSTER));

        assertThat(next(CLUSTER).getVersionInfo()).isEqualTo(newer.version(CLUSTER));
    }

    @Test
    void halfClose_removesStreamFromRegistry() throws Exception {
        server.hub.publish(BASE);
        send(request(CLUSTER)).next(CLUSTER);
        assertThat(server.node().protocol()).isEqualTo("sotw");
        assertThat(server.connectedStreams()).isEqualTo(1);

        client().complete();

        assertThat(client().awaitClosed().isOk()).isTrue();
        await().atMost(AdsTestServer.TIMEOUT).until(() -> server.registry.nodes().isEmpty());
        assertThat(server.connectedStreams()).isZero();
    }

    @Test
    void cancel_removesStreamFromRegistry_andStopsPushes() throws Exception {
        server.hub.publish(BASE);
        send(request(CLUSTER)).next(CLUSTER);
        server.node();

        client().cancel();

        await().atMost(AdsTestServer.TIMEOUT).until(() -> server.registry.nodes().isEmpty());
        assertThat(server.connectedStreams()).isZero();
        server.hub.publish(snapshot().cluster("a", 2000).build());
        await().during(AdsClientStream.QUIET).atMost(AdsTestServer.TIMEOUT)
                .until(() -> server.counter("aimesh_xds_pushes", "cluster") == 1);
    }

    @Test
    void metrics_countPushesAcksAndNacksByType() throws Exception {
        server.hub.publish(BASE);
        send(ack(send(request(CLUSTER)).next(CLUSTER)));
        DiscoveryResponse endpoints = send(request(ENDPOINT, "a")).next(ENDPOINT);
        send(nack(endpoints, "", "bad endpoints", "a"));
        server.awaitNack("endpoint", BASE.version(ENDPOINT));

        assertThat(server.counter("aimesh_xds_pushes", "cluster")).isEqualTo(1);
        assertThat(server.counter("aimesh_xds_pushes", "endpoint")).isEqualTo(1);
        assertThat(server.counter("aimesh_xds_acks", "cluster")).isEqualTo(1);
        assertThat(server.counter("aimesh_xds_acks", "endpoint")).isZero();
        assertThat(server.counter("aimesh_xds_nacks", "endpoint")).isEqualTo(1);
        assertThat(server.counter("aimesh_xds_nacks", "cluster")).isZero();
        assertThat(server.counter("aimesh_xds_pushes", "listener")).isZero();
    }

    @Test
    void pushLatency_isObservedForAcksOfChanges_notOfFirstResponses() throws Exception {
        server.hub.publish(BASE);
        send(ack(send(request(CLUSTER)).next(CLUSTER)));
        server.awaitAcked("cluster", BASE.version(CLUSTER));
        assertThat(server.pushLatencyCount("cluster")).isZero();
        XdsSnapshot changed = snapshot().cluster("a", 2000).build();

        server.hub.publish(changed);
        send(ack(next(CLUSTER)));

        server.awaitAcked("cluster", changed.version(CLUSTER));
        assertThat(server.pushLatencyCount("cluster")).isEqualTo(1);
    }

    /** Subscribes to all four types and ACKs everything, as Envoy does on startup; returns the last responses. */
    private Map<ResourceType, DiscoveryResponse> syncAll(XdsSnapshot snapshot) throws Exception {
        DiscoveryResponse clusters = send(request(CLUSTER)).next(CLUSTER);
        DiscoveryResponse endpoints = send(request(ENDPOINT, "a")).next(ENDPOINT);
        send(request(LISTENER));
        send(request(ROUTE, "r"));
        client().assertNoResponse(); // listeners and routes wait for the clusters and endpoints to be acknowledged
        send(ack(clusters));
        send(ack(endpoints, "a"));
        DiscoveryResponse listeners = next(LISTENER);
        DiscoveryResponse routes = next(ROUTE);
        send(ack(listeners));
        send(ack(routes, "r"));
        server.awaitAcked("route", snapshot.version(ROUTE));
        assertThat(server.node().ackedVersions()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "cluster", snapshot.version(CLUSTER), "endpoint", snapshot.version(ENDPOINT),
                "listener", snapshot.version(LISTENER), "route", snapshot.version(ROUTE)));
        return Map.of(CLUSTER, clusters, ENDPOINT, endpoints, LISTENER, listeners, ROUTE, routes);
    }

    /**
     * The stream, opened on first use. Tests publish their first snapshot before opening it: a stream
     * misses a publish between its opening and its first request (see the disabled BUG tests).
     */
    private AdsClientStream<DiscoveryRequest, DiscoveryResponse> client() {
        if (client == null) {
            client = server.sotw();
        }
        return client;
    }

    private SotwStreamTest send(DiscoveryRequest request) {
        client().send(request);
        return this;
    }

    private DiscoveryResponse next(ResourceType type) throws InterruptedException {
        DiscoveryResponse response = client().next();
        assertThat(response.getTypeUrl()).as("type of the next response").isEqualTo(type.typeUrl());
        return response;
    }

    private static DiscoveryRequest request(ResourceType type, String... names) {
        return DiscoveryRequest.newBuilder().setNode(NODE).setTypeUrl(type.typeUrl())
                .addAllResourceNames(List.of(names)).build();
    }

    /** An ACK: the response's version and nonce; {@code names} is the (possibly changed) subscription. */
    private static DiscoveryRequest ack(DiscoveryResponse response, String... names) {
        return DiscoveryRequest.newBuilder().setNode(NODE).setTypeUrl(response.getTypeUrl())
                .setVersionInfo(response.getVersionInfo()).setResponseNonce(response.getNonce())
                .addAllResourceNames(List.of(names)).build();
    }

    /** A NACK: the version the client keeps, the rejected response's nonce and an error. */
    private static DiscoveryRequest nack(DiscoveryResponse response, String keptVersion, String message, String... names) {
        return DiscoveryRequest.newBuilder().setNode(NODE).setTypeUrl(response.getTypeUrl())
                .setVersionInfo(keptVersion).setResponseNonce(response.getNonce())
                .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage(message))
                .addAllResourceNames(List.of(names)).build();
    }
}
