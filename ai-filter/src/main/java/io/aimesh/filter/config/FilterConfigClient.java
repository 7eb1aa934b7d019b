package io.aimesh.filter.config;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.aimesh.filter.AiFilterOptions;
import com.google.rpc.Status;
import io.aimesh.filter.api.FilterConfig;
import io.aimesh.internal.Secrets;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Subscribes to the filter's configuration over ADS, the way Envoy subscribes to its own:
 * one state-of-the-world stream, a node id, ACK what applied, NACK (with the reason) what did
 * not. A rejected config leaves the last good one in force; a broken stream is reopened with
 * backoff, and the config already applied keeps serving meanwhile.
 *
 * <p>Threading: stream callbacks arrive on gRPC threads, serialized per stream; reconnects
 * run on a single scheduler thread.
 */
public final class FilterConfigClient implements AutoCloseable {
    static final String TYPE_URL = "type.googleapis.com/aimesh.filter.v1alpha1.FilterConfig";
    private static final System.Logger LOG = System.getLogger(FilterConfigClient.class.getName());

    private final Node node;
    private final Consumer<RuntimeConfig> onConfig;
    private final ManagedChannel channel;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "aimesh-filter-xds");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;
    private long backoffMillis = 100;

    /**
     * @param options the control plane's ADS address (host:port), the node id and namespace to
     *     present, and the mutual TLS to use, if any
     * @param onConfig called with each new config that compiled; on a gRPC thread
     * @throws IOException when the TLS files cannot be read
     */
    public FilterConfigClient(AiFilterOptions options, Consumer<RuntimeConfig> onConfig) throws IOException {
        this.onConfig = requireNonNull(onConfig, "onConfig");
        Node.Builder node = Node.newBuilder().setId(options.nodeId()).setCluster(io.aimesh.filter.api.WireContract.FILTER_NODE_CLUSTER);
        if (options.namespace() != null) {
            node.setMetadata(Struct.newBuilder().putFields("aimesh.io/namespace",
                    Value.newBuilder().setStringValue(options.namespace()).build()));
        }
        this.node = node.build();
        String controlPlane = options.controlPlane();
        int colon = controlPlane.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("controlPlane: '" + controlPlane + "' (expected: HOST:PORT)");
        }
        NettyChannelBuilder channel = NettyChannelBuilder.forAddress(controlPlane.substring(0, colon),
                        Integer.parseInt(controlPlane.substring(colon + 1)))
                .keepAliveTime(30, TimeUnit.SECONDS);
        AiFilterOptions.XdsClientTls tls = options.xdsTls();
        if (tls == null) {
            channel.usePlaintext();
        } else {
            channel.sslContext(GrpcSslContexts.forClient()
                    .keyManager(tls.certificateChain().toFile(), tls.privateKey().toFile())
                    .trustManager(tls.trustedCa().toFile())
                    .build());
        }
        this.channel = channel.build();
        scheduler.execute(this::open);
    }

    /** The channel to the control plane, for other calls beside the config stream. */
    public io.grpc.Channel channel() {
        return channel;
    }

    private void open() {
        if (closed) {
            return;
        }
        Stream stream = new Stream();
        stream.requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(stream);
        stream.requests.onNext(DiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(TYPE_URL)
                .build());
    }

    private void reopenLater() {
        if (closed) {
            return;
        }
        long delay = backoffMillis;
        backoffMillis = Math.min(5_000, backoffMillis * 2);
        scheduler.schedule(this::open, delay, TimeUnit.MILLISECONDS);
    }

    /** One ADS stream; a new one replaces it after a failure. */
    private final class Stream implements StreamObserver<DiscoveryResponse> {
        StreamObserver<DiscoveryRequest> requests;
        private String ackedVersion = "";

        @Override
        public void onNext(DiscoveryResponse response) {
            backoffMillis = 100;
            DiscoveryRequest.Builder answer = DiscoveryRequest.newBuilder()
                    .setTypeUrl(TYPE_URL)
                    .setResponseNonce(response.getNonce());
            try {
                if (response.getResourcesCount() != 1) {
                    throw new InvalidConfigException("expected one FilterConfig resource, got " + response.getResourcesCount());
                }
                RuntimeConfig config = RuntimeConfig.compile(response.getResources(0).unpack(FilterConfig.class),
                        response.getVersionInfo());
                onConfig.accept(config);
                ackedVersion = response.getVersionInfo();
                LOG.log(Level.INFO, "filter config " + ackedVersion + " applied: " + Secrets.redact(String.valueOf(config)));
            } catch (InvalidProtocolBufferException | InvalidConfigException e) {
                LOG.log(Level.WARNING, "filter config " + response.getVersionInfo() + " rejected: " + Secrets.redact(e.getMessage()));
                answer.setErrorDetail(Status.newBuilder().setCode(3).setMessage(String.valueOf(e.getMessage())));
            }
            requests.onNext(answer.setVersionInfo(ackedVersion).build());
        }

        @Override
        public void onError(Throwable t) {
            if (closed) {
                return;
            }
            LOG.log(Level.WARNING, "config stream to the control plane failed (" + t.getMessage()
                    + "); keeping the current config and retrying");
            reopenLater();
        }

        @Override
        public void onCompleted() {
            reopenLater();
        }
    }

    @Override
    public void close() {
        closed = true;
        scheduler.shutdownNow();
        channel.shutdownNow();
    }
}
