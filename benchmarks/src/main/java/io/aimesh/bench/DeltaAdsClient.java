package io.aimesh.bench;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceStub;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * A simulated Envoy on a delta (incremental) ADS stream: it keeps the version of every
 * resource it holds, ACKs each response by its nonce alone, and changes subscriptions with
 * {@code resource_names_subscribe}/{@code _unsubscribe}. Its route table version is the
 * {@code aimesh_routes} resource's version.
 */
final class DeltaAdsClient extends SimulatedAdsClient implements StreamObserver<DeltaDiscoveryResponse> {
    /** All guarded by {@code this}. Per type URL: resource name to version. */
    private final Map<String, Map<String, String>> resources = new HashMap<>();
    /** Cluster name to the EDS name it needs. */
    private final Map<String, String> edsNames = new HashMap<>();
    private final Set<String> subscribedEds = new HashSet<>();
    private StreamObserver<DeltaDiscoveryRequest> requests;
    private boolean sentNode;
    private boolean routesSubscribed;
    private boolean ended;

    DeltaAdsClient(String nodeId, CountDownLatch initialRoutes) {
        super(nodeId, initialRoutes);
    }

    @Override
    synchronized void start(AggregatedDiscoveryServiceStub stub) {
        requests = stub.deltaAggregatedResources(this);
        send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS)); // no names: wildcard
        send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(LDS));
    }

    @Override
    public synchronized void onNext(DeltaDiscoveryResponse response) {
        if (ended) {
            return; // in flight when the benchmark half-closed
        }
        String type = response.getTypeUrl();
        Map<String, String> held = resources.computeIfAbsent(type, t -> new HashMap<>());
        for (Resource resource : response.getResourcesList()) {
            held.put(resource.getName(), resource.getVersion());
            if (type.equals(CDS)) {
                edsNames.put(resource.getName(), edsServiceName(resource.getResource()));
            }
        }
        held.keySet().removeAll(response.getRemovedResourcesList());
        send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(type).setResponseNonce(response.getNonce()));
        long ackedNanos = System.nanoTime();
        if (type.equals(CDS)) {
            edsNames.keySet().retainAll(held.keySet());
            updateEndpointSubscription();
        } else if (type.equals(LDS) && !routesSubscribed) {
            routesSubscribed = true;
            send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(RDS).addResourceNamesSubscribe(ROUTE_NAME));
        } else if (type.equals(RDS) && held.containsKey(ROUTE_NAME)) {
            routeAcked(held.get(ROUTE_NAME), ackedNanos);
        }
    }

    private void updateEndpointSubscription() {
        Set<String> wanted = new HashSet<>(edsNames.values());
        List<String> subscribe = wanted.stream().filter(name -> !subscribedEds.contains(name)).sorted().toList();
        List<String> unsubscribe = subscribedEds.stream().filter(name -> !wanted.contains(name)).sorted().toList();
        if (!subscribe.isEmpty() || !unsubscribe.isEmpty()) {
            subscribedEds.clear();
            subscribedEds.addAll(wanted);
            send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(EDS)
                    .addAllResourceNamesSubscribe(subscribe)
                    .addAllResourceNamesUnsubscribe(unsubscribe));
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

    /** The node goes on the first request only. */
    private void send(DeltaDiscoveryRequest.Builder request) {
        if (!sentNode) {
            request.setNode(node);
            sentNode = true;
        }
        requests.onNext(request.build());
    }
}
