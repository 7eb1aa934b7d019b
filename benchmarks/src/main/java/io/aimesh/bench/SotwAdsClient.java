package io.aimesh.bench;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceStub;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * A simulated Envoy on a state-of-the-world ADS stream. Each request carries the type's last
 * acknowledged {@code version_info} and {@code response_nonce} and its full list of names
 * (none for the wildcard CDS and LDS).
 */
final class SotwAdsClient extends SimulatedAdsClient implements StreamObserver<DiscoveryResponse> {
    /** All guarded by {@code this}: per type URL. */
    private final Map<String, List<String>> names = new HashMap<>();
    private final Map<String, String> versions = new HashMap<>();
    private final Map<String, String> nonces = new HashMap<>();
    private StreamObserver<DiscoveryRequest> requests;
    private boolean sentNode;
    private boolean ended;

    SotwAdsClient(String nodeId, CountDownLatch initialRoutes) {
        super(nodeId, initialRoutes);
    }

    @Override
    synchronized void start(AggregatedDiscoveryServiceStub stub) {
        requests = stub.streamAggregatedResources(this);
        send(CDS);
        send(LDS);
    }

    @Override
    public synchronized void onNext(DiscoveryResponse response) {
        if (ended) {
            return; // in flight when the benchmark half-closed
        }
        String type = response.getTypeUrl();
        versions.put(type, response.getVersionInfo());
        nonces.put(type, response.getNonce());
        send(type);
        long ackedNanos = System.nanoTime();
        if (type.equals(CDS)) {
            List<String> clusters = response.getResourcesList().stream().map(SimulatedAdsClient::edsServiceName)
                    .sorted().toList();
            if (!clusters.equals(names.get(EDS))) {
                names.put(EDS, clusters);
                send(EDS);
            }
        } else if (type.equals(LDS) && !names.containsKey(RDS)) {
            names.put(RDS, List.of(ROUTE_NAME));
            send(RDS);
        } else if (type.equals(RDS)) {
            routeAcked(response.getVersionInfo(), ackedNanos);
        }
    }

    @Override
    public void onError(Throwable t) {
        synchronized (this) {
            ended = true;
        }
        failed(t);
    }

    @Override
    public synchronized void onCompleted() {
        if (!ended) {
            ended = true;
            failed(new IllegalStateException("the control plane ended the stream"));
        }
    }

    @Override
    synchronized void close() {
        if (!ended) {
            ended = true;
            requests.onCompleted();
        }
    }

    /** Sends the type's current subscription and ACK state; the node goes on the first request only. */
    private void send(String type) {
        DiscoveryRequest.Builder request = DiscoveryRequest.newBuilder()
                .setTypeUrl(type)
                .setVersionInfo(versions.getOrDefault(type, ""))
                .setResponseNonce(nonces.getOrDefault(type, ""))
                .addAllResourceNames(names.getOrDefault(type, List.of()));
        if (!sentNode) {
            request.setNode(node);
            sentNode = true;
        }
        requests.onNext(request.build());
    }
}
