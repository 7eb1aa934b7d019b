package io.aimesh.xds.translate;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.util.Durations;
import io.aimesh.policy.Endpoint;
import io.aimesh.policy.FilterSettings;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.LoadBalancingPolicy;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.header_mutation.v3.HeaderMutation;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.List;

/**
 * The Envoy pieces that put the ai-filter in a request path, built once for both ways aimesh
 * reaches an Envoy: its own ADS ({@link EnvoyTranslator}) and Istio's EnvoyFilter patches (the
 * {@code istio} module). So a sidecar patched by Istio runs the same filters, in the same order, with
 * the same settings as a gateway served by the control plane. Stateless.
 */
public final class AiFilterChain {
    /** Envoy's ext_proc filter name: the ai-filter. */
    public static final String EXT_PROC_FILTER = "envoy.filters.http.ext_proc";
    /** Envoy's json_to_metadata filter name: reads the body's {@code model}. */
    public static final String MODEL_TO_METADATA_FILTER = "envoy.filters.http.json_to_metadata";
    /** The first HTTP filter: removes the internal headers from every request. */
    public static final String STRIP_FILTER = EnvoyTranslator.STRIP_FILTER;
    /** Envoy's router, the anchor every insertion is relative to: it is in every HTTP chain. */
    public static final String ROUTER_FILTER = "envoy.filters.http.router";
    /** The ext_proc cluster of the ai-filter's gRPC server. */
    public static final String FILTER_CLUSTER = EnvoyTranslator.FILTER_CLUSTER;
    /** The paths routed to models, as a regular expression on the normalised path (no query). */
    public static final String INFERENCE_PATH_REGEX = EnvoyTranslator.INFERENCE_PATHS.getRegex();
    /** Response headers the ai-filter computes at admission and Envoy adds from its metadata. */
    public static final List<String> FILTER_RESPONSE_HEADERS = EnvoyTranslator.FILTER_RESPONSE_HEADERS;
    /** Request headers carrying a client's credential, removed before a request goes upstream. */
    public static final List<String> CREDENTIAL_HEADERS = EnvoyTranslator.CREDENTIAL_HEADERS;
    /** The body of the 404 answer to a request no model route takes. */
    public static final String MODEL_NOT_FOUND = EnvoyTranslator.MODEL_NOT_FOUND;
    /** The header_mutation filter that keeps credentials from upstreams and adds the filter's response headers. */
    public static final String UPSTREAM_HEADERS_FILTER = "aimesh.upstream_headers";
    /** The body of the 405 answer to any method but POST on an inference path. */
    public static final String METHOD_NOT_ALLOWED = EnvoyTranslator.METHOD_NOT_ALLOWED;

    private AiFilterChain() {
    }

    /** The header_mutation filter that removes every internal header, in any spelling. */
    public static HeaderMutation stripInternalHeaders() {
        return EnvoyTranslator.stripInternalHeaders();
    }

    /**
     * The ext_proc filter: processing mode, message timeout and failure mode as {@code filter} sets them.
     *
     * @param jwt whether Envoy verifies JWTs before it, so the filter gets the verified payload
     * @param responseHeaders whether Envoy sends the filter the response headers (a plugin runs on them)
     */
    public static ExternalProcessor extProc(FilterSettings filter, boolean jwt, boolean responseHeaders) {
        return ExtProcConfig.of(requireNonNull(filter, "filter"), jwt, responseHeaders);
    }

    /** Envoy's jwt_authn filter name, whose metadata the ai-filter reads the tenant claim from. */
    public static final String JWT_FILTER = JwtConfig.FILTER_NAME;

    /**
     * The jwt_authn filter that verifies {@code jwt}, before the ai-filter.
     *
     * @throws TranslationException when its key file cannot be read
     */
    public static io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication jwtAuthn(
            io.aimesh.policy.Gateway.Jwt jwt) throws TranslationException {
        JwtConfig.checkKeyFile(jwt);
        return JwtConfig.of(jwt);
    }

    /**
     * For proxies whose routes aimesh does not write (Istio's): a header_mutation filter, last before
     * the router, that removes the credential headers from the request going upstream (the ai-filter
     * has read them) and adds the ai-filter's rate-limit and decision headers to the response from
     * the metadata its admission answer set. A request without that metadata gets empty values, which
     * Envoy does not add. On the control plane's own path the route table does both.
     */
    public static HeaderMutation upstreamHeaders() {
        io.envoyproxy.envoy.extensions.filters.http.header_mutation.v3.Mutations.Builder mutations =
                io.envoyproxy.envoy.extensions.filters.http.header_mutation.v3.Mutations.newBuilder();
        for (String header : CREDENTIAL_HEADERS) {
            mutations.addRequestMutations(io.envoyproxy.envoy.config.common.mutation_rules.v3.HeaderMutation.newBuilder()
                    .setRemove(header));
        }
        for (io.envoyproxy.envoy.config.core.v3.HeaderValueOption header : EnvoyTranslator.filterResponseHeaders()) {
            mutations.addResponseMutations(io.envoyproxy.envoy.config.common.mutation_rules.v3.HeaderMutation.newBuilder()
                    .setAppend(header));
        }
        return HeaderMutation.newBuilder().setMutations(mutations).build();
    }

    /** The cluster load-balancing policy that sends a request to the endpoint the ai-filter picked. */
    public static LoadBalancingPolicy pickedEndpointPolicy() {
        return EnvoyTranslator.overrideHost();
    }

    /** The most bytes Envoy buffers per connection: above the filter's body limit, so the filter answers 413. */
    public static int bufferLimit(FilterSettings filter) {
        return EnvoyTranslator.bufferLimit(filter);
    }

    /**
     * The ai-filter's cluster, {@value #FILTER_CLUSTER}, over HTTP/2: STATIC for an IP literal,
     * STRICT_DNS for a name (a Kubernetes Service), which Envoy re-resolves as the Service's pods change.
     */
    public static Cluster filterCluster(Endpoint address, java.time.Duration connectTimeout) {
        requireNonNull(address, "address");
        boolean ip = address.host().matches("[0-9.]+") || address.host().contains(":");
        HttpProtocolOptions http2 = HttpProtocolOptions.newBuilder()
                .setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                        .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
                .build();
        return Cluster.newBuilder()
                .setName(FILTER_CLUSTER)
                .setType(ip ? Cluster.DiscoveryType.STATIC : Cluster.DiscoveryType.STRICT_DNS)
                .setConnectTimeout(Durations.fromNanos(connectTimeout.toNanos()))
                .putTypedExtensionProtocolOptions("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.pack(http2))
                .setLoadAssignment(ClusterLoadAssignment.newBuilder()
                        .setClusterName(FILTER_CLUSTER)
                        .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                                .setEndpoint(io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                                        .setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
                                                .setAddress(address.host()).setPortValue(address.port())))))))
                .build();
    }
}
