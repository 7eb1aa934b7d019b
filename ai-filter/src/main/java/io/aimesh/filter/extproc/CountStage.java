package io.aimesh.filter.extproc;

import io.aimesh.filter.api.WireContract;
import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;

/**
 * The response stage: counts the tokens of the answer (its usage, or the streamed deltas), hides
 * the usage event a client did not ask for, and settles the reservation when the body ends. The
 * first body message carries the status as an attribute (the filter does not see response
 * headers, see ExtProcConfig in the control plane); a failed answer is charged as
 * {@link FailedAnswer} says.
 */
final class CountStage {
    /** Where Envoy puts the configured attributes: under its filter's name, whatever it is called. */
    static final String ATTRIBUTES_KEY = "envoy.filters.http.ext_proc";

    private CountStage() {
    }

    /**
     * Reads one response body message of an admitted request.
     *
     * @param first whether it is the first one
     * @return the replacement body chunk, or {@code null} to pass it unchanged
     */
    static ByteString count(Exchange exchange, ProcessingRequest request, boolean first, long startNanos) {
        HttpBody body = request.getResponseBody();
        if (first) {
            exchange.answered(responseStatus(request));
        }
        if (!exchange.reading()) {
            if (body.getBody().isEmpty() && !body.getEndOfStream()) {
                return null;
            }
            exchange.responseStarted(isEventStream(body.getBody()));
        }
        return exchange.onResponseBody(body.getBody(), body.getEndOfStream(), startNanos);
    }

    /**
     * The pool whose cluster answered ({@code xds.cluster_name} attribute, {@link WireContract#POOL_CLUSTER_PREFIX}
     * and the pool's name), or {@code null} when Envoy did not say or the cluster is not a pool's.
     */
    static String upstreamPool(ProcessingRequest request) {
        Struct attributes = request.getAttributesMap().get(ATTRIBUTES_KEY);
        Value cluster = attributes == null ? null : attributes.getFieldsMap().get("xds.cluster_name");
        if (cluster == null || cluster.getKindCase() != Value.KindCase.STRING_VALUE
                || !cluster.getStringValue().startsWith(WireContract.POOL_CLUSTER_PREFIX)) {
            return null;
        }
        return cluster.getStringValue().substring(WireContract.POOL_CLUSTER_PREFIX.length());
    }

    /** The {@code response.code} attribute; 200 when Envoy did not send it. */
    static int responseStatus(ProcessingRequest request) {
        Struct attributes = request.getAttributesMap().get(ATTRIBUTES_KEY);
        if (attributes == null) {
            return 200;
        }
        Value code = attributes.getFieldsMap().get("response.code");
        return code == null || code.getKindCase() != Value.KindCase.NUMBER_VALUE ? 200 : (int) code.getNumberValue();
    }

    /**
     * Whether a response body is an event stream rather than one JSON document, from its first
     * byte that is not white space: a JSON body opens with a brace, an SSE field never does.
     */
    static boolean isEventStream(ByteString body) {
        for (int i = 0; i < body.size(); i++) {
            byte b = body.byteAt(i);
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return b != '{';
            }
        }
        return false;
    }
}
