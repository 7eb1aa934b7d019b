package io.aimesh.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ForwardingServerCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A real gRPC server on a loopback port serving {@link AdsService}, with a client channel to it.
 * The hub starts empty, as in production, and fans publishes out asynchronously: a test that
 * publishes observes the effect through the client stream or the registry, never right away.
 * One per test.
 */
final class AdsTestServer implements AutoCloseable {
    static final Duration TIMEOUT = Duration.ofSeconds(5);

    final XdsMetrics metrics = new XdsMetrics();
    final SnapshotHub hub = new SnapshotHub(metrics);
    final NodeRegistry registry = new NodeRegistry();
    /** Released once per call after the server has created its stream object (the service method returned). */
    private final Semaphore streamsCreated = new Semaphore(0);
    private final AtomicBoolean failNextSend = new AtomicBoolean();
    private final Server server;
    private final ManagedChannel channel;

    private AdsTestServer() throws IOException {
        ServerInterceptor countCreated = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                              ServerCallHandler<Q, R> next) {
                ServerCall.Listener<Q> listener = next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    @Override
                    public void sendMessage(R message) {
                        if (failNextSend.compareAndSet(true, false)) {
                            throw new IllegalStateException("test breaks this send");
                        }
                        super.sendMessage(message);
                    }
                }, headers);
                streamsCreated.release();
                return listener;
            }
        };
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerInterceptors.intercept(new AdsService(hub, registry, metrics), countCreated))
                .build()
                .start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    static AdsTestServer start() throws IOException {
        return new AdsTestServer();
    }

    /** Opens a state-of-the-world stream; nothing is sent until the test sends a request. */
    AdsClientStream<DiscoveryRequest, DiscoveryResponse> sotw() {
        AdsClientStream<DiscoveryRequest, DiscoveryResponse> stream = new AdsClientStream<>();
        stream.open(AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(stream.observer()));
        return stream;
    }

    /** Opens a delta stream; nothing is sent until the test sends a request. */
    AdsClientStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> delta() {
        AdsClientStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> stream = new AdsClientStream<>();
        stream.open(AggregatedDiscoveryServiceGrpc.newStub(channel).deltaAggregatedResources(stream.observer()));
        return stream;
    }

    /** Makes the next response any stream sends throw inside the server, as an unexpected bug would. */
    void failNextSend() {
        failNextSend.set(true);
    }

    /** Waits until the server has created the stream objects of {@code count} more calls. */
    void awaitStreamsCreated(int count) throws InterruptedException {
        assertThat(streamsCreated.tryAcquire(count, TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
                .as("server created %d stream(s) within %s", count, TIMEOUT)
                .isTrue();
    }

    /** The single connected node's status, waiting for it to appear. */
    NodeStatus node() {
        return await().atMost(TIMEOUT).until(registry::nodes, nodes -> nodes.size() == 1).get(0);
    }

    /** Waits until the node has acknowledged {@code version} of {@code type} (e.g. {@code cluster}). */
    void awaitAcked(String type, String version) {
        await().atMost(TIMEOUT).untilAsserted(() -> assertThat(node().ackedVersions()).containsEntry(type, version));
    }

    /** Waits until the node's last NACK is for {@code type} at {@code version}, and returns it. */
    NodeStatus.Nack awaitNack(String type, String version) {
        return await().atMost(TIMEOUT).until(() -> node().lastNack(),
                nack -> nack != null && nack.type().equals(type) && nack.version().equals(version));
    }

    /** A counter's value for one {@code type} label, 0 when never incremented. {@code name} is without {@code _total}. */
    double counter(String name, String type) {
        for (MetricSnapshot snapshot : metrics.registry().scrape()) {
            if (snapshot.getMetadata().getName().equals(name)) {
                for (CounterSnapshot.CounterDataPointSnapshot point : ((CounterSnapshot) snapshot).getDataPoints()) {
                    if (type.equals(point.getLabels().get("type"))) {
                        return point.getValue();
                    }
                }
                return 0;
            }
        }
        throw new AssertionError("no metric " + name);
    }

    /** How many ACKs of {@code type} observed a push latency. */
    long pushLatencyCount(String type) {
        for (MetricSnapshot snapshot : metrics.registry().scrape()) {
            if (snapshot.getMetadata().getName().equals("aimesh_xds_push_latency_seconds")) {
                for (HistogramSnapshot.HistogramDataPointSnapshot point : ((HistogramSnapshot) snapshot).getDataPoints()) {
                    if (type.equals(point.getLabels().get("type"))) {
                        return point.getCount();
                    }
                }
                return 0;
            }
        }
        throw new AssertionError("no metric aimesh_xds_push_latency_seconds");
    }

    double connectedStreams() {
        for (MetricSnapshot snapshot : metrics.registry().scrape()) {
            if (snapshot.getMetadata().getName().equals("aimesh_xds_connected_streams")) {
                List<GaugeSnapshot.GaugeDataPointSnapshot> points = ((GaugeSnapshot) snapshot).getDataPoints();
                return points.isEmpty() ? 0 : points.get(0).getValue();
            }
        }
        throw new AssertionError("no metric aimesh_xds_connected_streams");
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        server.shutdownNow();
        hub.close();
        channel.awaitTermination(5, TimeUnit.SECONDS);
        server.awaitTermination(5, TimeUnit.SECONDS);
    }
}
