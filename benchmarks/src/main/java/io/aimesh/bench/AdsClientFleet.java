package io.aimesh.bench;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Many {@link SimulatedAdsClient}s multiplexed over a few HTTP/2 connections
 * ({@value #CLIENTS_PER_CHANNEL} streams each) on one small event loop, so a thousand
 * clients cost a thousand streams, not a thousand threads. Callbacks run on the event loop
 * (direct executor); the other methods are for one benchmark thread.
 */
final class AdsClientFleet implements AutoCloseable {
    static final int CLIENTS_PER_CHANNEL = 100;

    private final EventLoopGroup eventLoop = new MultiThreadIoEventLoopGroup(2,
            new DefaultThreadFactory("fanout-client", true), NioIoHandler.newFactory());
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<SimulatedAdsClient> clients = new ArrayList<>();
    private final CountDownLatch initialRoutes;

    private AdsClientFleet(int count) {
        initialRoutes = new CountDownLatch(count);
    }

    /** Opens {@code count} ADS streams to {@code 127.0.0.1:port}; they subscribe at once. */
    static AdsClientFleet connect(int port, int count, boolean delta) {
        AdsClientFleet fleet = new AdsClientFleet(count);
        try {
            for (int i = 0; i < count; i++) {
                if (i % CLIENTS_PER_CHANNEL == 0) {
                    fleet.channels.add(NettyChannelBuilder.forAddress("127.0.0.1", port)
                            .usePlaintext()
                            .eventLoopGroup(fleet.eventLoop)
                            .channelType(NioSocketChannel.class)
                            .directExecutor()
                            .build());
                }
                var stub = AggregatedDiscoveryServiceGrpc.newStub(fleet.channels.get(fleet.channels.size() - 1));
                String nodeId = "fanout-" + i;
                SimulatedAdsClient client = delta ? new DeltaAdsClient(nodeId, fleet.initialRoutes)
                        : new SotwAdsClient(nodeId, fleet.initialRoutes);
                fleet.clients.add(client);
                client.start(stub);
            }
            return fleet;
        } catch (RuntimeException e) {
            fleet.close();
            throw e;
        }
    }

    int size() {
        return clients.size();
    }

    /** Waits until every client has acknowledged its first route table. */
    void awaitInitialRoutes(Duration timeout) throws InterruptedException {
        if (!initialRoutes.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw stragglers(initialRoutes, "acknowledged a first route table within " + timeout);
        }
    }

    /** Arms every client to report its next acknowledged route table that differs from its current one. */
    CountDownLatch expectRouteChange() {
        CountDownLatch done = new CountDownLatch(clients.size());
        clients.forEach(client -> client.expectRouteChange(done));
        return done;
    }

    /** Waits for the change armed with {@code done}; returns each client's ACK time ({@link System#nanoTime()}). */
    long[] awaitRouteChange(CountDownLatch done, Duration timeout) throws InterruptedException {
        if (!done.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw stragglers(done, "acknowledged the changed route table within " + timeout);
        }
        return clients.stream().mapToLong(SimulatedAdsClient::changeAckedNanos).toArray();
    }

    private IllegalStateException stragglers(CountDownLatch pending, String what) {
        long failed = clients.stream().map(SimulatedAdsClient::failure).filter(Objects::nonNull).count();
        IllegalStateException e = new IllegalStateException(pending.getCount() + " of " + clients.size()
                + " clients have not " + what + " (" + failed + " of them lost their stream)");
        clients.stream().map(SimulatedAdsClient::failure).filter(Objects::nonNull).findFirst().ifPresent(e::addSuppressed);
        return e;
    }

    /** Half-closes every stream, then shuts the channels and the event loop down. */
    @Override
    public void close() {
        clients.forEach(SimulatedAdsClient::close);
        channels.forEach(ManagedChannel::shutdown);
        try {
            for (ManagedChannel channel : channels) {
                if (!channel.awaitTermination(10, TimeUnit.SECONDS)) {
                    channel.shutdownNow();
                }
            }
        } catch (InterruptedException e) {
            channels.forEach(ManagedChannel::shutdownNow);
            Thread.currentThread().interrupt();
        } finally {
            eventLoop.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
