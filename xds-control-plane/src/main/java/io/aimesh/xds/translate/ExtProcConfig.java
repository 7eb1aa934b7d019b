package io.aimesh.xds.translate;

import com.google.protobuf.util.Durations;
import io.aimesh.filter.api.WireContract;
import io.aimesh.policy.FilterSettings;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.MetadataOptions;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;

/**
 * The ext_proc filter that puts the ai-filter in the request path.
 *
 * <p>Messages are the cost of ext_proc: each one is CPU in Envoy and in the filter, and every
 * synchronous one waits for the filter. So the filter sees only what it must:
 * <ul>
 *   <li>Request headers and body, which go out together
 *       ({@code send_body_without_waiting_for_header_response}): admission costs one round trip.
 *       Headers must be sent (not skipped) for the body's answer to set the model header.</li>
 *   <li>Not the response headers, unless a plugin of the Gateway runs on them. The rate-limit headers are known at admission: the filter
 *       returns them as dynamic metadata in namespace {@value #METADATA_NAMESPACE}, and the route
 *       configuration adds them to the response ({@link EnvoyTranslator}). The status the filter
 *       needs (a failed response charges nothing) comes as the {@value #RESPONSE_CODE} attribute
 *       on the first response body message. Measured: one message fewer each way per request.</li>
 *   <li>The response body, streamed: SSE, where a hidden usage event must be cut out of a
 *       chunk, and JSON, which the filter gathers to read the usage at its end. It stays
 *       synchronous because only the filter knows, per request, whether a chunk must change.</li>
 * </ul>
 */
final class ExtProcConfig {
    /** The dynamic metadata namespace of the filter's answers (the ai-filter writes the same name). */
    static final String METADATA_NAMESPACE = WireContract.METADATA_NAMESPACE;
    /** The response attribute that tells the filter the response status. */
    static final String RESPONSE_CODE = "response.code";
    static final String UPSTREAM_CLUSTER = "xds.cluster_name";

    private ExtProcConfig() {
    }

    /**
     * @param jwt whether Envoy verifies JWTs first: the filter then gets the verified payload
     * @param responseHeaders whether the filter gets the response headers (a plugin runs on them)
     */
    static ExternalProcessor of(FilterSettings filter, boolean jwt, boolean responseHeaders) {
        MetadataOptions.Builder metadata = MetadataOptions.newBuilder()
                .setReceivingNamespaces(MetadataOptions.MetadataNamespaces.newBuilder()
                        .addUntyped(METADATA_NAMESPACE)
                        // The endpoint the filter picked, where the Inference Extension puts it.
                        .addUntyped(WireContract.LB_NAMESPACE));
        if (jwt) {
            metadata.setForwardingNamespaces(MetadataOptions.MetadataNamespaces.newBuilder().addUntyped(JwtConfig.FILTER_NAME));
        }
        return ExternalProcessor.newBuilder()
                .setGrpcService(GrpcService.newBuilder()
                        .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(EnvoyTranslator.FILTER_CLUSTER)))
                .setFailureModeAllow(filter.failOpen())
                .setMessageTimeout(Durations.fromNanos(filter.messageTimeout().toNanos()))
                .setProcessingMode(ProcessingMode.newBuilder()
                        .setRequestHeaderMode(ProcessingMode.HeaderSendMode.SEND)
                        .setRequestBodyMode(ProcessingMode.BodySendMode.BUFFERED)
                        .setResponseHeaderMode(responseHeaders ? ProcessingMode.HeaderSendMode.SEND : ProcessingMode.HeaderSendMode.SKIP)
                        .setResponseBodyMode(ProcessingMode.BodySendMode.STREAMED)
                        .setRequestTrailerMode(ProcessingMode.HeaderSendMode.SKIP)
                        .setResponseTrailerMode(ProcessingMode.HeaderSendMode.SKIP))
                .setSendBodyWithoutWaitingForHeaderResponse(true)
                .addResponseAttributes(RESPONSE_CODE)
                // Which pool answered: with Envoy's weighted split, the version the filter measures it against.
                .addResponseAttributes(UPSTREAM_CLUSTER)
                .setMetadataOptions(metadata)
                .build();
    }
}
