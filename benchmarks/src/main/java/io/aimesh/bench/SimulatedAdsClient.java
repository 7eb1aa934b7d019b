package io.aimesh.bench;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.aimesh.xds.snapshot.ResourceType;
import io.aimesh.xds.translate.EnvoyTranslator;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceStub;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * One simulated Envoy on one ADS stream: subscribes to clusters and listeners, then to the
 * endpoints of the clusters it receives and to the route table its listener names, and
 * acknowledges every response. It records when it acknowledged each route table, which is
 * what the benchmark measures.
 *
 * <p>Threading: gRPC calls back on the channel's event loop (direct executor), the benchmark
 * thread arms {@link #expectRouteChange} and reads the results; both hold {@code this}.
 */
abstract class SimulatedAdsClient {
    static final String CDS = ResourceType.CLUSTER.typeUrl();
    static final String EDS = ResourceType.ENDPOINT.typeUrl();
    static final String LDS = ResourceType.LISTENER.typeUrl();
    static final String RDS = ResourceType.ROUTE.typeUrl();
    static final String ROUTE_NAME = EnvoyTranslator.ROUTE_CONFIG_NAME;

    /** A route table version this client acknowledged, and the {@link System#nanoTime()} it sent the ACK. */
    record RouteAck(String version, long ackedNanos) {
    }

    final Node node;
    private final CountDownLatch initialRoutes;
    /** Guarded by {@code this}; every route table acknowledged, in order. */
    private final List<RouteAck> routeAcks = new ArrayList<>();
    /** Guarded by {@code this}; the route change awaited, or {@code null}. */
    private CountDownLatch change;
    /** Guarded by {@code this}. */
    private String changeFrom;
    /** Guarded by {@code this}; 0 until the awaited change is acknowledged. */
    private long changeAckedNanos;
    private volatile Throwable failure;

    SimulatedAdsClient(String nodeId, CountDownLatch initialRoutes) {
        this.node = Node.newBuilder().setId(nodeId).setCluster("aimesh-fanout-bench").build();
        this.initialRoutes = initialRoutes;
    }

    /** Opens the stream and sends the first requests. */
    abstract void start(AggregatedDiscoveryServiceStub stub);

    /** Half-closes the stream, as Envoy does on shutdown. */
    abstract void close();

    /** Arms a watch: {@code done} counts down once this client acknowledges a route table other than its current one. */
    final synchronized void expectRouteChange(CountDownLatch done) {
        change = done;
        changeFrom = routeAcks.isEmpty() ? null : routeAcks.get(routeAcks.size() - 1).version();
        changeAckedNanos = 0;
    }

    /** When this client acknowledged the awaited route change, or 0 if it has not. */
    final synchronized long changeAckedNanos() {
        return changeAckedNanos;
    }

    /** Why the stream ended early, or {@code null}. */
    final Throwable failure() {
        return failure;
    }

    /** Records an acknowledged route table; the caller holds {@code this}. */
    final void routeAcked(String version, long ackedNanos) {
        if (routeAcks.isEmpty()) {
            initialRoutes.countDown();
        }
        routeAcks.add(new RouteAck(version, ackedNanos));
        if (change != null && !version.equals(changeFrom)) {
            changeAckedNanos = ackedNanos;
            change.countDown();
            change = null;
        }
    }

    final void failed(Throwable cause) {
        failure = cause;
    }

    /** The EDS name Envoy subscribes to for a packed cluster: its service name, else its own name. */
    static String edsServiceName(Any packedCluster) {
        try {
            Cluster cluster = packedCluster.unpack(Cluster.class);
            String service = cluster.getEdsClusterConfig().getServiceName();
            return service.isEmpty() ? cluster.getName() : service;
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("control plane sent a cluster that does not parse", e);
        }
    }
}
