package io.aimesh.filter.extproc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.aimesh.filter.api.WireContract;
import io.aimesh.picker.Endpoint;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Builds the ext_proc answers the filter sends back to Envoy. */
final class ProcessingResponses {
    private static final ProcessingResponse REQUEST_BODY_CONTINUE = ProcessingResponse.newBuilder()
            .setRequestBody(BodyResponse.getDefaultInstance()).build();
    private static final ProcessingResponse RESPONSE_BODY_CONTINUE = ProcessingResponse.newBuilder()
            .setResponseBody(BodyResponse.getDefaultInstance()).build();

    private ProcessingResponses() {
    }

    static ProcessingResponse requestHeaders(List<String> remove) {
        CommonResponse.Builder common = CommonResponse.newBuilder();
        if (!remove.isEmpty()) {
            common.setHeaderMutation(HeaderMutation.newBuilder().addAllRemoveHeaders(remove));
        }
        return ProcessingResponse.newBuilder()
                .setRequestHeaders(HeadersResponse.newBuilder().setResponse(common))
                .build();
    }

    /**
     * Continues with the request body: sets the model header (and clears the route cache so the
     * router sees it) when {@code model} is given, replaces the body when {@code body} is, and
     * hands Envoy {@code responseHeaders} to add to the response, as dynamic metadata in namespace
     * {@value WireContract#METADATA_NAMESPACE} that the control plane's route configuration reads.
     */
    static ProcessingResponse requestBody(String model, ByteString body, List<HeaderValue> responseHeaders) {
        return requestBody(model, body, responseHeaders, null, null, null);
    }

    /**
     * As {@link #requestBody(String, ByteString, List)}, and routes the request to {@code pool}
     * (the version the filter chose) and, when given, the {@code endpoint} it picked there: the
     * Gateway API Inference Extension's header and {@code envoy.lb} metadata. Names the
     * {@code tenant} to the model server when given.
     */
    static ProcessingResponse requestBody(String model, ByteString body, List<HeaderValue> responseHeaders, String pool,
                                          Endpoint endpoint, String tenant) {
        return requestBody(model, body, responseHeaders, pool, endpoint, tenant, List.of(), List.of());
    }

    /** As above, and sets {@code setHeaders} on the request and removes {@code removeHeaders} from it (plugins' changes). */
    static ProcessingResponse requestBody(String model, ByteString body, List<HeaderValue> responseHeaders, String pool,
                                          Endpoint endpoint, String tenant, List<HeaderValue> setHeaders,
                                          List<String> removeHeaders) {
        if (model == null && body == null && responseHeaders.isEmpty() && tenant == null && setHeaders.isEmpty()
                && removeHeaders.isEmpty()) {
            return REQUEST_BODY_CONTINUE;
        }
        CommonResponse.Builder common = CommonResponse.newBuilder();
        HeaderMutation.Builder headers = HeaderMutation.newBuilder();
        for (HeaderValue header : setHeaders) {
            headers.addSetHeaders(HeaderValueOption.newBuilder().setHeader(header)
                    .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD));
        }
        headers.addAllRemoveHeaders(removeHeaders);
        if (model != null) {
            headers.addSetHeaders(header(WireContract.MODEL_HEADER, model));
            common.setClearRouteCache(true);
        }
        if (pool != null) {
            headers.addSetHeaders(header(WireContract.POOL_HEADER, pool));
        }
        if (tenant != null) {
            headers.addSetHeaders(header(WireContract.TENANT_HEADER, tenant));
        }
        Struct.Builder metadata = Struct.newBuilder();
        if (endpoint != null) {
            headers.addSetHeaders(header(WireContract.DESTINATION_HEADER, endpoint.authority()));
            metadata.putFields(WireContract.LB_NAMESPACE, Value.newBuilder().setStructValue(Struct.newBuilder()
                    .putFields(WireContract.DESTINATION_HEADER, Value.newBuilder().setStringValue(endpoint.authority()).build())).build());
        }
        if (body != null) {
            common.setBodyMutation(BodyMutation.newBuilder().setBody(body));
            headers.addSetHeaders(header("content-length", Integer.toString(body.size())));
        }
        ProcessingResponse.Builder response = ProcessingResponse.newBuilder()
                .setRequestBody(BodyResponse.newBuilder().setResponse(common.setHeaderMutation(headers)));
        if (!responseHeaders.isEmpty()) {
            Struct.Builder values = Struct.newBuilder();
            for (HeaderValue header : responseHeaders) {
                values.putFields(header.getKey(), Value.newBuilder()
                        .setStringValue(header.getRawValue().toStringUtf8()).build());
            }
            metadata.putFields(WireContract.METADATA_NAMESPACE, Value.newBuilder().setStructValue(values).build());
        }
        if (metadata.getFieldsCount() > 0) {
            response.setDynamicMetadata(metadata);
        }
        return response.build();
    }

    static ProcessingResponse responseHeaders(List<HeaderValue> add) {
        return responseHeaders(add, List.of());
    }

    /** Continues with the response headers, {@code set} set on them and {@code remove} removed (plugins' changes). */
    static ProcessingResponse responseHeaders(List<HeaderValue> add, List<String> remove) {
        HeaderMutation.Builder mutation = HeaderMutation.newBuilder().addAllRemoveHeaders(remove);
        for (HeaderValue header : add) {
            mutation.addSetHeaders(HeaderValueOption.newBuilder().setHeader(header)
                    .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD));
        }
        return ProcessingResponse.newBuilder()
                .setResponseHeaders(HeadersResponse.newBuilder().setResponse(CommonResponse.newBuilder().setHeaderMutation(mutation)))
                .build();
    }

    /** Continues with a response body chunk, replaced by {@code body} when it is not {@code null}. */
    static ProcessingResponse responseBody(ByteString body) {
        if (body == null) {
            return RESPONSE_BODY_CONTINUE;
        }
        return ProcessingResponse.newBuilder()
                .setResponseBody(BodyResponse.newBuilder().setResponse(CommonResponse.newBuilder()
                        .setBodyMutation(BodyMutation.newBuilder().setBody(body))))
                .build();
    }

    static ProcessingResponse requestTrailers() {
        return ProcessingResponse.newBuilder().setRequestTrailers(TrailersResponse.getDefaultInstance()).build();
    }

    static ProcessingResponse responseTrailers() {
        return ProcessingResponse.newBuilder().setResponseTrailers(TrailersResponse.getDefaultInstance()).build();
    }

    static ProcessingResponse immediate(ErrorReply reply, String retryAfter) {
        return immediate(reply, retryAfter, List.of());
    }

    /** Answers the client directly with {@code reply}, its decision header and any rate-limit headers. */
    static ProcessingResponse immediate(ErrorReply reply, String retryAfter, List<HeaderValue> extra) {
        HeaderMutation.Builder headers = HeaderMutation.newBuilder()
                .addSetHeaders(header("content-type", "application/json"))
                .addSetHeaders(header(WireContract.DECISION_HEADER, reply.decision()));
        if (retryAfter != null) {
            headers.addSetHeaders(header("retry-after", retryAfter));
        }
        for (HeaderValue header : extra) {
            headers.addSetHeaders(HeaderValueOption.newBuilder().setHeader(header));
        }
        return ProcessingResponse.newBuilder()
                .setImmediateResponse(ImmediateResponse.newBuilder()
                        .setStatus(HttpStatus.newBuilder().setCode(StatusCode.forNumber(reply.status())))
                        .setHeaders(headers)
                        .setBody(ByteString.copyFrom(reply.json(), StandardCharsets.UTF_8))
                        .setDetails(reply.decision().replace(' ', '_')))
                .build();
    }

    /** Answers the client directly with a JSON body the filter made (a coalesced call's slice). */
    static ProcessingResponse immediateJson(int status, byte[] body, String decision, List<HeaderValue> extra) {
        HeaderMutation.Builder headers = HeaderMutation.newBuilder()
                .addSetHeaders(header("content-type", "application/json"))
                .addSetHeaders(header(WireContract.DECISION_HEADER, decision));
        for (HeaderValue header : extra) {
            headers.addSetHeaders(HeaderValueOption.newBuilder().setHeader(header));
        }
        return ProcessingResponse.newBuilder()
                .setImmediateResponse(ImmediateResponse.newBuilder()
                        .setStatus(HttpStatus.newBuilder().setCode(StatusCode.forNumber(status)))
                        .setHeaders(headers)
                        .setBody(ByteString.copyFrom(body)))
                .build();
    }

    static HeaderValue value(String name, String value) {
        return HeaderValue.newBuilder().setKey(name).setRawValue(ByteString.copyFromUtf8(value)).build();
    }

    private static HeaderValueOption header(String name, String value) {
        return HeaderValueOption.newBuilder()
                .setHeader(value(name, value))
                .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
                .build();
    }
}
