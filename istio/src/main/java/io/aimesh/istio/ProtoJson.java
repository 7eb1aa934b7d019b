package io.aimesh.istio;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.xds.type.v3.TypedStruct;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.header_mutation.v3.HeaderMutation;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.Map;

/**
 * Envoy protos as the JSON maps an EnvoyFilter patch's {@code value} holds: Envoy's own messages,
 * printed by protobuf's JSON printer with the proto field names (snake_case, as Envoy's docs and
 * istiod's examples spell them), never written by hand. Istio reads the value back with the same
 * protobuf JSON rules.
 */
final class ProtoJson {
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer()
            .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder()
                    .add(ExternalProcessor.getDescriptor())
                    .add(HeaderMutation.getDescriptor())
                    .add(HttpProtocolOptions.getDescriptor())
                    .add(io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.getDescriptor())
                    .add(io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication.getDescriptor())
                    .add(TypedStruct.getDescriptor())
                    .build())
            .preservingProtoFieldNames()
            .omittingInsignificantWhitespace();
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ProtoJson() {
    }

    /** {@code message} as a JSON object. */
    static Map<String, Object> of(MessageOrBuilder message) {
        try {
            return MAPPER.readValue(PRINTER.print(message), new TypeReference<Map<String, Object>>() { });
        } catch (InvalidProtocolBufferException | com.fasterxml.jackson.core.JsonProcessingException e) {
            // Every type an Any may hold here is registered above: a miss is a bug in this class.
            throw new IllegalStateException("cannot print " + message.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /** A typed_config object: {@code {"@type": ..., fields}}. */
    static Map<String, Object> typed(com.google.protobuf.Message message) {
        return of(com.google.protobuf.Any.pack(message));
    }
}
