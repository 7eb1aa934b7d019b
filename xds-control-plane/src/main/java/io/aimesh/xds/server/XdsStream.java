package io.aimesh.xds.server;

import io.aimesh.filter.api.WireContract;
import io.aimesh.internal.Secrets;
import io.aimesh.xds.snapshot.ResourceType;
import io.aimesh.xds.snapshot.XdsResource;
import io.aimesh.xds.snapshot.XdsSnapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import io.grpc.stub.ServerCallStreamObserver;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One ADS stream's state, shared by the state-of-the-world and delta variants.
 *
 * <p>Threading: every field is confined to {@link #context}; requests from gRPC, snapshot
 * changes from the {@link SnapshotHub} and readiness callbacks all hop onto it, so there are
 * no locks and no interleavings to reason about.
 *
 * <p>Make-before-break: a listener or route change is held back until the client has
 * acknowledged every cluster and (if it subscribes to endpoints) every endpoint assignment
 * of the snapshot, so a route never points at a cluster Envoy does not have yet.
 *
 * <p>Scope: a node gets the snapshot of its own config scope only, named by its node metadata
 * ({@value #SCOPE_KEY}, else Istio's {@value #ISTIO_NAMESPACE_KEY}; none is the default scope). A
 * node of a scope with no config gets nothing (not an empty config, which would wipe its own). A
 * request naming a resource that only another scope has is counted and logged: it is answered as
 * for any resource that does not exist. Over mutual TLS the scope named must be the one the client
 * certificate proves ({@link CertifiedScope}), or the stream is refused.
 *
 * <p>Backpressure: sending is a diff between the snapshot and what was sent. When the
 * transport is not ready nothing is queued; the diff is taken again when it becomes ready,
 * so a slow client gets the latest config once instead of every intermediate one.
 */
abstract class XdsStream<Q, R> {
    private static final System.Logger LOG = System.getLogger(XdsStream.class.getName());
    private static final AtomicLong IDS = new AtomicLong();
    /** The node metadata field that names a node's config scope. */
    static final String SCOPE_KEY = "aimesh.io/namespace";
    /** Istio's node metadata field for the pod's namespace, the scope when {@value #SCOPE_KEY} is absent. */
    static final String ISTIO_NAMESPACE_KEY = "NAMESPACE";

    /** What was sent in one response, remembered until the client answers its nonce. */
    record Sent(String nonce, Map<String, String> versions, Set<String> removed, String typeVersion, long publishedNanos) {
    }

    /** Per-type protocol state. */
    static final class TypeState {
        boolean subscribed;
        boolean wildcard;
        final Set<String> names = new TreeSet<>();
        /** Resource name to the version the client acknowledged having. */
        final Map<String, String> acked = new HashMap<>();
    }

    final long id = IDS.incrementAndGet();
    final SynchronizationContext context;
    final ServerCallStreamObserver<R> responses;
    final XdsMetrics metrics;
    final Map<ResourceType, TypeState> types = new EnumMap<>(ResourceType.class);
    private final SnapshotHub hub;
    private final NodeRegistry registry;
    private final String protocol;
    private Runnable unsubscribe;
    private NodeStatus status;
    private long nonces;
    /**
     * Whether the node said it is an ai-filter (node cluster {@link WireContract#FILTER_NODE_CLUSTER}):
     * only filters get the FilterConfig, which holds the tenants' key digests and the Redis URI. Envoy
     * never asks for it. The claim is the node's own; over mutual TLS only a node holding a certificate
     * of the scope can make it at all (SECURITY.md).
     */
    private boolean filterNode;
    private boolean reportedFilterRefusal;
    /** The node's config scope, known from its first request. */
    private String scope = SnapshotHub.DEFAULT_SCOPE;
    /** The scope the client's certificate proves (mutual TLS), or {@code null}: then the node's claim is taken as is. */
    private final String certifiedScope;
    /** Names already reported as asked for out of scope, per type, so a retrying client is logged once. */
    private final Set<String> reportedOutOfScope = new java.util.HashSet<>();
    SnapshotHub.Published current;

    XdsStream(String protocol, ServerCallStreamObserver<R> responses, SnapshotHub hub, NodeRegistry registry,
              XdsMetrics metrics, String certifiedScope) {
        this.protocol = protocol;
        this.certifiedScope = certifiedScope;
        this.responses = responses;
        this.hub = hub;
        this.registry = registry;
        this.metrics = metrics;
        this.context = new SynchronizationContext((thread, e) -> {
            LOG.log(Level.ERROR, "ADS stream " + id + " failed; closing it", e);
            responses.onError(Status.INTERNAL.withDescription("control plane error").asRuntimeException());
            close(); // gRPC calls no cancel handler for a call the server ended itself
        });
        for (ResourceType type : ResourceType.values()) {
            types.put(type, new TypeState());
        }
        this.current = hub.published();
        responses.setOnReadyHandler(() -> context.execute(this::pushAll));
        responses.setOnCancelHandler(() -> context.execute(this::close));
    }

    /** Handles one request from gRPC; called on a gRPC thread. */
    final void onRequest(Q request) {
        context.execute(() -> {
            if (status == null) {
                Node node = node(request);
                if (node == null || node.getId().isEmpty()) {
                    responses.onError(Status.INVALID_ARGUMENT
                            .withDescription("the first request on a stream must carry node.id").asRuntimeException());
                    close();
                    return;
                }
                scope = scopeOf(node, current);
                if (certifiedScope != null && !certifiedScope.equals(scope)) {
                    metrics.scopeDenied();
                    LOG.log(Level.WARNING, "node " + node.getId() + " claims scope '" + scope + "' but its certificate proves '"
                            + certifiedScope + "'; stream refused");
                    responses.onError(Status.PERMISSION_DENIED.withDescription("node metadata names scope '" + scope
                            + "', the client certificate '" + certifiedScope + "'").asRuntimeException());
                    close();
                    return;
                }
                filterNode = WireContract.FILTER_NODE_CLUSTER.equals(node.getCluster());
                status = new NodeStatus(id, node.getId(), node.getCluster(), scope, protocol, Instant.now(), Map.of(), null);
                registry.put(status);
                metrics.streamOpened();
                unsubscribe = hub.subscribe(p -> context.execute(this::onSnapshot));
                current = hub.published(); // a publish between construction and subscription is not missed
                LOG.log(Level.INFO, "node " + node.getId() + " connected (" + protocol + " stream " + id
                        + (scope.isEmpty() ? "" : ", scope " + scope) + ")");
                if (current != null && current.snapshot(scope) == null) {
                    LOG.log(Level.WARNING, "node " + node.getId() + " is in scope '" + scope + "', which has no config");
                }
            }
            handle(request);
        });
    }

    /** Handles the end of the stream from either side. */
    final void close() {
        context.throwIfNotInThisSynchronizationContext();
        if (unsubscribe == null && status == null) {
            return;
        }
        if (unsubscribe != null) {
            unsubscribe.run();
            unsubscribe = null;
        }
        if (status != null) {
            registry.remove(id);
            LOG.log(Level.INFO, "node " + status.nodeId() + " disconnected (stream " + id + ")");
            status = null;
            metrics.streamClosed();
        }
    }

    /**
     * The node's scope from its metadata: {@value #SCOPE_KEY} as named; else Istio's
     * {@value #ISTIO_NAMESPACE_KEY} when policies exist for that namespace (every Istio proxy sends
     * its pod's namespace, and with un-namespaced policies all of them belong in the default
     * scope); else the default scope.
     */
    static String scopeOf(Node node, SnapshotHub.Published published) {
        var fields = node.getMetadata().getFieldsMap();
        com.google.protobuf.Value named = fields.get(SCOPE_KEY);
        if (named != null && named.getKindCase() == com.google.protobuf.Value.KindCase.STRING_VALUE) {
            return named.getStringValue();
        }
        com.google.protobuf.Value istio = fields.get(ISTIO_NAMESPACE_KEY);
        if (istio != null && istio.getKindCase() == com.google.protobuf.Value.KindCase.STRING_VALUE
                && published != null && published.snapshot(istio.getStringValue()) != null) {
            return istio.getStringValue();
        }
        return SnapshotHub.DEFAULT_SCOPE;
    }

    /**
     * Counts and logs the names of {@code type} the client asked for that its scope lacks but another
     * scope has: a node reaching for another scope's config. It gets nothing for them.
     */
    final void checkScope(ResourceType type, Iterable<String> names) {
        if (current == null) {
            return;
        }
        XdsSnapshot own = current.snapshot(scope);
        for (String name : names) {
            if ((own == null || own.resource(type, name) == null) && current.elsewhere(scope, type, name)) {
                metrics.outOfScope(type);
                if (reportedOutOfScope.add(type + "/" + name)) {
                    LOG.log(Level.WARNING, "node " + status.nodeId() + " (scope '" + scope + "') asked for "
                            + XdsMetrics.label(type) + " '" + name + "' of another scope; it gets none");
                }
            }
        }
    }

    private void onSnapshot() {
        boolean had = current != null && snapshot() != null;
        current = hub.published();
        if (had && status != null && snapshot() == null) {
            // Nothing is sent (an empty config would wipe the node's); it keeps its last config.
            LOG.log(Level.WARNING, "node " + status.nodeId() + ": its scope '" + scope + "' has no config any more; "
                    + "it keeps the config it has");
        }
        pushAll();
    }

    final void pushAll() {
        if (status == null || current == null || snapshot() == null) {
            return;
        }
        for (ResourceType type : ResourceType.values()) {
            maybeSend(type);
        }
    }

    /** The snapshot of the node's scope, or {@code null} when its scope has none. */
    final XdsSnapshot snapshot() {
        return current.snapshot(scope);
    }

    /**
     * The publish time to measure an ACK's push latency from: only a response that carries a
     * change to a type the client already had measures propagation; a first response measures
     * nothing (a client connecting an hour after the last edit is not an hour of latency).
     */
    final long changeNanos(boolean typeSentBefore) {
        return typeSentBefore ? current.publishedNanos() : 0;
    }

    final String nextNonce() {
        return Long.toString(++nonces);
    }

    /**
     * Whether changes of {@code type} may be sent now (see the class comment); never before the
     * first snapshot, which a request may beat.
     */
    final boolean gateOpen(ResourceType type) {
        if (current == null || snapshot() == null) {
            return false;
        }
        if (type == ResourceType.FILTER && !filterNode) {
            if (!reportedFilterRefusal) {
                reportedFilterRefusal = true;
                metrics.outOfScope(type);
                LOG.log(Level.WARNING, "node " + status.nodeId() + " (cluster '" + status.cluster() + "') asked for the "
                        + "ai-filter's config, which goes only to nodes of cluster '" + WireContract.FILTER_NODE_CLUSTER
                        + "'; it gets none");
            }
            return false;
        }
        return !type.gatedOnClusters() || (clustersSynced() && endpointsSynced());
    }

    private boolean clustersSynced() {
        TypeState state = types.get(ResourceType.CLUSTER);
        return !state.subscribed || acked(state, snapshot().resources(ResourceType.CLUSTER).values());
    }

    /** Whether the client has the endpoints of every EDS cluster in the snapshot (not of assignments no cluster uses). */
    private boolean endpointsSynced() {
        TypeState state = types.get(ResourceType.ENDPOINT);
        if (!state.subscribed) {
            return true;
        }
        java.util.List<XdsResource> used = new java.util.ArrayList<>();
        for (XdsResource cluster : snapshot().resources(ResourceType.CLUSTER).values()) {
            if (cluster.message() instanceof Cluster c && c.getType() == Cluster.DiscoveryType.EDS) {
                String name = c.getEdsClusterConfig().getServiceName().isEmpty() ? c.getName() : c.getEdsClusterConfig().getServiceName();
                XdsResource assignment = snapshot().resource(ResourceType.ENDPOINT, name);
                if (assignment != null) {
                    used.add(assignment);
                }
            }
        }
        return acked(state, used);
    }

    private static boolean acked(TypeState state, Iterable<XdsResource> resources) {
        for (XdsResource resource : resources) {
            if (!resource.version().equals(state.acked.get(resource.name()))) {
                return false;
            }
        }
        return true;
    }

    final void recordAck(ResourceType type, Sent sent) {
        TypeState state = types.get(type);
        state.acked.putAll(sent.versions());
        state.acked.keySet().removeAll(sent.removed());
        metrics.acked(type, sent.publishedNanos());
        status = status.withAck(XdsMetrics.label(type), sent.typeVersion());
        registry.put(status);
    }

    final void recordNack(ResourceType type, Sent sent, String detail) {
        // A filter's NACK may quote the config it refused, a Redis URI with its password among it.
        String message = Secrets.redact(detail);
        metrics.nacked(type);
        LOG.log(Level.WARNING, "node " + status.nodeId() + " rejected " + XdsMetrics.label(type) + " version "
                + sent.typeVersion() + ": " + message);
        status = status.withNack(new NodeStatus.Nack(XdsMetrics.label(type), sent.typeVersion(), message, Instant.now()));
        registry.put(status);
    }

    final boolean ready() {
        return responses.isReady();
    }

    final String nodeId() {
        return status.nodeId();
    }

    abstract Node node(Q request);

    abstract void handle(Q request);

    abstract void maybeSend(ResourceType type);
}
