package io.aimesh.xds.server;

import static java.util.Objects.requireNonNull;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * The Aggregated Discovery Service: state-of-the-world and delta streams over one gRPC
 * service, both serving the {@link SnapshotHub}'s current snapshot. Thread-safe.
 */
public final class AdsService extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase {
    private final SnapshotHub hub;
    private final NodeRegistry registry;
    private final XdsMetrics metrics;

    public AdsService(SnapshotHub hub, NodeRegistry registry, XdsMetrics metrics) {
        this.hub = requireNonNull(hub, "hub");
        this.registry = requireNonNull(registry, "registry");
        this.metrics = requireNonNull(metrics, "metrics");
    }

    @Override
    public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> responses) {
        return observe(new SotwStream((ServerCallStreamObserver<DiscoveryResponse>) responses, hub, registry, metrics,
                CertifiedScope.current()));
    }

    @Override
    public StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResources(StreamObserver<DeltaDiscoveryResponse> responses) {
        return observe(new DeltaStream((ServerCallStreamObserver<DeltaDiscoveryResponse>) responses, hub, registry, metrics,
                CertifiedScope.current()));
    }

    private static <Q, R> StreamObserver<Q> observe(XdsStream<Q, R> stream) {
        return new StreamObserver<>() {
            @Override
            public void onNext(Q request) {
                stream.onRequest(request);
            }

            @Override
            public void onError(Throwable t) {
                stream.context.execute(stream::close);
            }

            @Override
            public void onCompleted() {
                stream.context.execute(() -> {
                    stream.close();
                    stream.responses.onCompleted();
                });
            }
        };
    }
}
