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
 * so admission costs one round trip, not two. That setting also sends response bodies before
 * the filter has seen the response headers, so the filter cannot choose a body mode per
 * response (Envoy ignores a {@code mode_override} then); response bodies are streamed, which
 * serves both kinds: SSE, where a hidden usage event must be cut out of a chunk, and JSON,
 * which the filter gathers to read the usage at its end.
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
                        .setResponseBodyMode(ProcessingMode.BodySendMode.STREAMED)
                        .setRequestTrailerMode(ProcessingMode.HeaderSendMode.SKIP)
                        .setResponseTrailerMode(ProcessingMode.HeaderSendMode.SKIP))
                .setSendBodyWithoutWaitingForHeaderResponse(true)
                .build();
    }
}
