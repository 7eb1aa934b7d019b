package io.aimesh.xds.server;

import io.aimesh.xds.snapshot.ResourceType;
import io.aimesh.xds.snapshot.XdsResource;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.stub.ServerCallStreamObserver;
import java.lang.System.Logger.Level;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * An incremental (delta) ADS stream: each response carries only the resources whose version
 * differs from what the client has, plus the names it must remove.
 *
 * <p>On reconnect the client lists what it has in {@code initial_resource_versions}; those
 * are taken as sent, so an unchanged resource is not sent again and a resource the server
 * no longer has is removed (java-control-plane #463 forgets this after a server restart).
 * A rejected resource version is never resent; the client keeps its previous version.
 */
final class DeltaStream extends XdsStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
    private static final System.Logger LOG = System.getLogger(DeltaStream.class.getName());

    /** Per type: name to the version last sent (what the client has, or soon will). */
    private final Map<ResourceType, Map<String, String>> sent = new EnumMap<>(ResourceType.class);
    /** Per type: name to a version the client rejected. */
    private final Map<ResourceType, Map<String, String>> rejected = new EnumMap<>(ResourceType.class);
    /** Per type: responses not yet answered, by nonce. */
    private final Map<ResourceType, Map<String, Sent>> pending = new EnumMap<>(ResourceType.class);
    private final Set<ResourceType> answeredOnce = java.util.EnumSet.noneOf(ResourceType.class);

    /** @param certifiedScope the scope the client's certificate proves, or {@code null} without mutual TLS */
    DeltaStream(ServerCallStreamObserver<DeltaDiscoveryResponse> responses, SnapshotHub hub, NodeRegistry registry,
                XdsMetrics metrics, String certifiedScope) {
        super("delta", responses, hub, registry, metrics, certifiedScope);
        for (ResourceType type : ResourceType.values()) {
            sent.put(type, new HashMap<>());
            rejected.put(type, new HashMap<>());
            pending.put(type, new HashMap<>());
        }
    }

    @Override
    Node node(DeltaDiscoveryRequest request) {
        return request.hasNode() ? request.getNode() : null;
    }

    @Override
    void handle(DeltaDiscoveryRequest request) {
        ResourceType type = ResourceType.of(request.getTypeUrl());
        if (type == null) {
            LOG.log(Level.DEBUG, "node " + nodeId() + " asked for unserved type " + request.getTypeUrl());
            return;
        }
        TypeState state = types.get(type);
        Map<String, String> sentVersions = sent.get(type);
        if (!state.subscribed) {
            state.subscribed = true;
            state.wildcard = type.wildcardByDefault() && request.getResourceNamesSubscribeCount() == 0;
            sentVersions.putAll(request.getInitialResourceVersionsMap());
            state.acked.putAll(request.getInitialResourceVersionsMap());
        }
        for (String name : request.getResourceNamesSubscribeList()) {
            if (name.equals("*")) {
                state.wildcard = true;
            } else {
                state.names.add(name);
            }
        }
        checkScope(type, request.getResourceNamesSubscribeList());
        for (String name : request.getResourceNamesUnsubscribeList()) {
            if (name.equals("*")) {
                state.wildcard = false;
            } else {
                state.names.remove(name);
                sentVersions.remove(name); // a later subscribe must send it again
            }
        }
        boolean answered = false;
        if (!request.getResponseNonce().isEmpty()) {
            Sent answer = pending.get(type).remove(request.getResponseNonce());
            if (answer != null) {
                answered = true;
                if (request.hasErrorDetail()) {
                    reject(type, answer);
                    recordNack(type, answer, request.getErrorDetail().getMessage());
                } else {
                    recordAck(type, answer);
                }
            }
        }
        if (answered) {
            pushAll();
        } else {
            maybeSend(type);
        }
    }

    /** The client kept its previous versions: remember that, and never resend what it refused. */
    private void reject(ResourceType type, Sent answer) {
        TypeState state = types.get(type);
        Map<String, String> sentVersions = sent.get(type);
        answer.versions().forEach((name, version) -> {
            rejected.get(type).put(name, version);
            String had = state.acked.get(name);
            if (had == null) {
                sentVersions.remove(name);
            } else {
                sentVersions.put(name, had);
            }
        });
    }

    @Override
    void maybeSend(ResourceType type) {
        TypeState state = types.get(type);
        if (!state.subscribed || !gateOpen(type)) {
            return;
        }
        Map<String, String> sentVersions = sent.get(type);
        Map<String, String> refused = rejected.get(type);
        Map<String, XdsResource> available = snapshot().resources(type);
        DeltaDiscoveryResponse.Builder response = DeltaDiscoveryResponse.newBuilder().setTypeUrl(type.typeUrl());
        Map<String, String> versions = new LinkedHashMap<>();
        for (String name : state.wildcard ? available.keySet() : state.names) {
            XdsResource resource = available.get(name);
            if (resource == null || resource.version().equals(sentVersions.get(name))
                    || resource.version().equals(refused.get(name))) {
                continue;
            }
            response.addResources(Resource.newBuilder()
                    .setName(name)
                    .setVersion(resource.version())
                    .setResource(resource.packed()));
            versions.put(name, resource.version());
        }
        Set<String> removed = new TreeSet<>();
        for (String name : sentVersions.keySet()) {
            if (!available.containsKey(name) && (state.wildcard || state.names.contains(name))) {
                removed.add(name);
            }
        }
        // The first answer of a type is due even when empty: Envoy waits for it to finish initializing.
        boolean firstAnswer = answeredOnce.add(type);
        if (versions.isEmpty() && removed.isEmpty() && !firstAnswer) {
            return;
        }
        if (!ready()) {
            if (firstAnswer) {
                answeredOnce.remove(type);
            }
            return; // the on-ready handler diffs again
        }
        response.addAllRemovedResources(removed)
                .setSystemVersionInfo(snapshot().version(type))
                .setNonce(nextNonce());
        sentVersions.putAll(versions);
        sentVersions.keySet().removeAll(removed);
        pending.get(type).put(response.getNonce(),
                new Sent(response.getNonce(), versions, removed, snapshot().version(type), changeNanos(!firstAnswer)));
        responses.onNext(response.build());
        metrics.pushed(type);
    }
}
