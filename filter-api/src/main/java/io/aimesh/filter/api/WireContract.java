package io.aimesh.filter.api;

import java.util.List;

/**
 * The names the control plane's Envoy configuration and the ai-filter must agree on: internal
 * headers, dynamic metadata namespaces and keys. Declared once here so that neither side can drift
 * from the other; a header added to {@link #INTERNAL_HEADERS} is stripped by Envoy from every client
 * request before any filter runs.
 */
public final class WireContract {
    /** The model the filter read from the body; the route table matches on it. */
    public static final String MODEL_HEADER = "x-aimesh-model";
    /** The pool of the version the filter chose; routes to dedicated pools match only on it. */
    public static final String POOL_HEADER = "x-aimesh-pool";
    /** The tenant the filter identified, as it tells the model servers. */
    public static final String TENANT_HEADER = "x-aimesh-tenant";
    /** The endpoint the filter picked, as {@code ip:port}; the Gateway API Inference Extension's name. */
    public static final String DESTINATION_HEADER = "x-gateway-destination-endpoint";
    /** The rule behind the filter's verdict, on every answer. */
    public static final String DECISION_HEADER = "x-aimesh-decision";
    /** A pool's Envoy cluster is this and the pool's name. */
    public static final String POOL_CLUSTER_PREFIX = "pool_";
    /** The version Envoy's route chose, set by the route itself (never by a client). */
    public static final String ROUTE_VERSION_HEADER = "x-aimesh-route-version";
    /**
     * Marks a shadow copy the filter sends to a mirrored version (its answer is discarded), so a
     * model server can tell copies from real requests.
     */
    public static final String SHADOW_HEADER = "x-aimesh-shadow";
    /** On answers of a tenant with spend budgets: what is left of the tightest (the refusing one on a refusal), e.g. {@code 12.50}. */
    public static final String BUDGET_REMAINING_HEADER = "x-aimesh-budget-remaining";
    /** When that budget's period ends, as an RFC 3339 instant in UTC, e.g. {@code 2027-01-01T00:00:00Z}. */
    public static final String BUDGET_RESET_HEADER = "x-aimesh-budget-reset";
    /** The prefix of every header name aimesh owns. */
    public static final String INTERNAL_PREFIX = "x-aimesh-";

    /**
     * Headers only aimesh may set. Envoy removes each of them (and any spelling with underscores)
     * from client requests before the first filter, so a filter that fails open cannot pass a
     * client's copy on.
     */
    public static final List<String> INTERNAL_HEADERS = List.of(MODEL_HEADER, POOL_HEADER, TENANT_HEADER,
            DESTINATION_HEADER, DECISION_HEADER, ROUTE_VERSION_HEADER, SHADOW_HEADER);

    /**
     * The largest request body a policy may allow (a Gateway's {@code maxRequestBytes}), 64 MiB. Envoy
     * buffers up to the policy's value and hands the whole body to the filter in one ext_proc message,
     * so the filter's gRPC server must accept this much plus the message's framing.
     */
    public static final long MAX_REQUEST_BYTES = 64L << 20;
    /** What an ext_proc message adds to the body it carries: headers, attributes, protobuf framing. */
    public static final int EXT_PROC_OVERHEAD_BYTES = 1 << 20;

    /** Dynamic metadata namespace the filter writes and the route configuration reads. */
    public static final String METADATA_NAMESPACE = "aimesh";
    /** Key in {@link #METADATA_NAMESPACE} where Envoy's json_to_metadata puts the body's model. */
    public static final String METADATA_MODEL_KEY = "model";
    /** Where an endpoint picker puts the destination for Envoy's load balancer. */
    public static final String LB_NAMESPACE = "envoy.lb";
    /** The metadata namespace of Envoy's jwt_authn filter, holding verified payloads. */
    public static final String JWT_NAMESPACE = "envoy.filters.http.jwt_authn";
    /**
     * The node cluster the ai-filter's xDS client sends; the control plane serves the FilterConfig
     * (key digests, the Redis URI) only to nodes of this cluster, never to Envoy.
     */
    public static final String FILTER_NODE_CLUSTER = "aimesh-filter";
    /** Node metadata key naming the policy namespace (scope) a node belongs to. */
    public static final String SCOPE_KEY = "aimesh.io/namespace";

    private WireContract() {
    }
}
