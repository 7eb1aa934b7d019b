package io.aimesh.xds.translate;

import com.google.protobuf.util.Durations;
import io.aimesh.policy.FilterSettings;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;

/**
 * The ext_proc filter that puts the ai-filter in the request path.
 *
 * <p>Round trips are the cost of ext_proc: every synchronous message waits for the filter.
 * The request's headers and body go out together ({@code send_body_without_waiting_for_header_response}),
 * so admission costs one round trip, not two. The response body mode is chosen per request
 * by the filter ({@code allow_mode_override}): buffered for JSON, whose usage sits at the end,
 * streamed for SSE, where a hidden usage event must be cut out, none where nothing is needed.
 */
final class ExtProcConfig {
    private ExtProcConfig() {
    }

    static ExternalProcessor of(FilterSettings filter) {
        return ExternalProcessor.newBuilder()
                .setGrpcService(GrpcService.newBuilder()
                        .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(EnvoyTranslator.FILTER_CLUSTER)))
                .setFailureModeAllow(filter.failOpen())
                .setMessageTimeout(Durations.fromNanos(filter.messageTimeout().toNanos()))
                .setProcessingMode(ProcessingMode.newBuilder()
                        .setRequestHeaderMode(ProcessingMode.HeaderSendMode.SEND)
                        .setRequestBodyMode(ProcessingMode.BodySendMode.BUFFERED)
                        .setResponseHeaderMode(ProcessingMode.HeaderSendMode.SEND)
                        .setResponseBodyMode(ProcessingMode.BodySendMode.NONE)
                        .setRequestTrailerMode(ProcessingMode.HeaderSendMode.SKIP)
                        .setResponseTrailerMode(ProcessingMode.HeaderSendMode.SKIP))
                .setSendBodyWithoutWaitingForHeaderResponse(true)
                .setAllowModeOverride(true)
                .build();
    }
}
