package io.aimesh.xds.server;

import io.aimesh.xds.snapshot.ResourceType;
import io.aimesh.xds.snapshot.XdsResource;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.stub.ServerCallStreamObserver;
import java.lang.System.Logger.Level;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A state-of-the-world ADS stream: every response carries all the resources of its type
 * that the client subscribes to, versioned by the type's content hash.
 *
 * <p>A NACKed version is never sent again: the client is sent nothing more of that type
 * until the snapshot's version for it changes (or the client's subscription does).
 */
final class SotwStream extends XdsStream<DiscoveryRequest, DiscoveryResponse> {
    private static final System.Logger LOG = System.getLogger(SotwStream.class.getName());

    /** Per type: the response awaiting an answer (or last answered), and the version last rejected. */
    private final Map<ResourceType, Sent> lastSent = new EnumMap<>(ResourceType.class);
    private final Map<ResourceType, Set<String>> sentNames = new EnumMap<>(ResourceType.class);
    private final Map<ResourceType, String> answeredNonce = new EnumMap<>(ResourceType.class);
    private final Map<ResourceType, String> rejectedVersion = new EnumMap<>(ResourceType.class);

    /** @param certifiedScope the scope the client's certificate proves, or {@code null} without mutual TLS */
    SotwStream(ServerCallStreamObserver<DiscoveryResponse> responses, SnapshotHub hub, NodeRegistry registry,
                XdsMetrics metrics, String certifiedScope) {
        super("sotw", responses, hub, registry, metrics, certifiedScope);
    }

    @Override
    Node node(DiscoveryRequest request) {
        return request.hasNode() ? request.getNode() : null;
    }

    @Override
    void handle(DiscoveryRequest request) {
        ResourceType type = ResourceType.of(request.getTypeUrl());
        if (type == null) {
            LOG.log(Level.DEBUG, "node " + nodeId() + " asked for unserved type " + request.getTypeUrl());
            return;
        }
        TypeState state = types.get(type);
        String nonce = request.getResponseNonce();
        Sent sent = lastSent.get(type);
        boolean answered = false;
        if (!nonce.isEmpty()) {
            if (sent == null || !nonce.equals(sent.nonce())) {
                return; // answers a response that a newer one superseded: the protocol says ignore it
            }
            if (!nonce.equals(answeredNonce.get(type))) {
                answeredNonce.put(type, nonce);
                answered = true;
                if (request.hasErrorDetail()) {
                    rejectedVersion.put(type, sent.typeVersion());
                    recordNack(type, sent, request.getErrorDetail().getMessage());
                } else {
                    state.acked.clear(); // state of the world: what was sent is all the client has
                    recordAck(type, sent);
                }
            }
        }
        state.subscribed = true;
        state.wildcard = type.wildcardByDefault()
                && (request.getResourceNamesCount() == 0 || request.getResourceNamesList().contains("*"));
        state.names.clear();
        if (!state.wildcard) {
            state.names.addAll(request.getResourceNamesList());
            checkScope(type, request.getResourceNamesList());
        }
        if (answered) {
            pushAll(); // an ACK may open the make-before-break gate for other types
        } else {
            maybeSend(type);
        }
    }

    @Override
    void maybeSend(ResourceType type) {
        TypeState state = types.get(type);
        if (!state.subscribed || !gateOpen(type)) {
            return;
        }
        String version = snapshot().version(type);
        Set<String> names = state.wildcard ? Set.of("*") : state.names;
        boolean namesChanged = !names.equals(sentNames.get(type));
        Sent sent = lastSent.get(type);
        if (!namesChanged && (sent != null && version.equals(sent.typeVersion()) || version.equals(rejectedVersion.get(type)))) {
            return;
        }
        if (!ready()) {
            return; // the on-ready handler diffs again
        }
        DiscoveryResponse.Builder response = DiscoveryResponse.newBuilder()
                .setTypeUrl(type.typeUrl())
                .setVersionInfo(version)
                .setNonce(nextNonce());
        Map<String, String> versions = new LinkedHashMap<>();
        for (XdsResource resource : snapshot().resources(type).values()) {
            if (state.wildcard || state.names.contains(resource.name())) {
                response.addResources(resource.packed());
                versions.put(resource.name(), resource.version());
            }
        }
        lastSent.put(type, new Sent(response.getNonce(), versions, Set.of(), version, changeNanos(sent != null)));
        sentNames.put(type, state.wildcard ? names : Set.copyOf(names));
        responses.onNext(response.build());
        metrics.pushed(type);
    }
}
