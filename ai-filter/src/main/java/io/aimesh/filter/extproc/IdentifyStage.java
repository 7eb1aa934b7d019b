package io.aimesh.filter.extproc;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.aimesh.filter.api.WireContract;
import io.aimesh.filter.config.RuntimeConfig;
import io.aimesh.filter.config.RuntimeConfig.TenantInfo;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The first stage, on the request headers: notes the path, content type and request id, removes
 * client-sent internal headers (every {@code x-aimesh-*} one but the configured override headers,
 * and the destination header), and identifies the tenant of an inference request: a verified JWT's
 * claim decides alone when there is one; else an API key's digest; else a trusted header.
 */
final class IdentifyStage {
    /** Where Envoy's jwt_authn filter puts the verified payload (JwtConfig in the control plane). */
    private static final String JWT_PAYLOAD_KEY = "jwt_payload";

    private IdentifyStage() {
    }

    /**
     * Reads {@code request}'s headers into {@code state} (whose config is set) and adds the headers
     * to remove to {@code remove}.
     *
     * @return the refusal, or {@code null} to go on
     */
    static ErrorReply identify(ProcessingRequest request, RequestState state, List<String> remove) {
        HttpHeaders headers = request.getRequestHeaders();
        RuntimeConfig config = state.config;
        Map<String, Map<String, TenantInfo>> tenantHeaders = config.tenantHeaders();
        String method = "";
        String authorization = null;
        TenantInfo byHeader = null;
        for (HeaderValue header : headers.getHeaders().getHeadersList()) {
            String name = header.getKey();
            switch (name) {
                case ":path" -> state.path = value(header);
                case ":method" -> method = value(header);
                case "content-type" -> state.contentType = value(header);
                case "authorization" -> authorization = value(header);
                case "x-request-id" -> state.requestId = value(header);
                case WireContract.DESTINATION_HEADER -> remove.add(name);
                default -> {
                    if (config.clientHeaders().contains(name)) {
                        // An override header, whatever its name: the filter chooses versions by it.
                        if (state.clientHeaders == null) {
                            state.clientHeaders = new HashMap<>(2);
                        }
                        state.clientHeaders.putIfAbsent(name, value(header));
                    } else if (name.startsWith(WireContract.INTERNAL_PREFIX)) {
                        remove.add(name);
                    }
                    Map<String, TenantInfo> values = tenantHeaders.get(name);
                    if (values != null && byHeader == null) {
                        byHeader = values.get(value(header));
                    }
                }
            }
        }
        int query = state.path.indexOf('?');
        String route = query < 0 ? state.path : state.path.substring(0, query);
        state.inference = method.equals("POST") && (route.equals("/v1/chat/completions") || route.equals("/v1/completions")
                || route.equals("/v1/embeddings"));
        if (state.inference && !config.jwtClaimPath().isEmpty()) {
            state.jwtPayload = jwtPayload(request); // for the tenant, and a stickiness claim
        }
        if (state.inference && config.identityRequired()) {
            ErrorReply refusal = identifyTenant(request, state, authorization, byHeader);
            if (refusal != null) {
                return refusal;
            }
        }
        return state.inference && headers.getEndOfStream() ? ErrorReply.emptyBody() : null;
    }

    private static ErrorReply identifyTenant(ProcessingRequest request, RequestState state, String authorization,
                                             TenantInfo byHeader) {
        RuntimeConfig config = state.config;
        if (!config.jwtClaimPath().isEmpty() && state.jwtPayload != null) {
            // A verified token decides alone: a token naming no tenant is not rescued by a key or header.
            String claim = jwtClaim(state.jwtPayload, config.jwtClaimName(), config.jwtClaimPath());
            state.tenant = claim == null ? null : config.tenantByJwtClaim(claim);
            return state.tenant == null ? ErrorReply.unknownJwtTenant() : null;
        }
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            String digest = ApiKeys.sha256(authorization.substring(7).trim());
            state.tenant = config.tenantByKeyDigest(digest);
            state.keyDigest = state.tenant == null ? null : digest;
        }
        if (state.tenant == null) {
            state.tenant = byHeader;
        }
        return state.tenant == null ? ErrorReply.unknownTenant(authorization != null) : null;
    }

    /**
     * The JWT payload Envoy verified (jwt_authn's dynamic metadata, forwarded by the control plane's
     * ext_proc config), or {@code null} when the request carried no token.
     */
    static Struct jwtPayload(ProcessingRequest request) {
        Struct namespace = request.getMetadataContext().getFilterMetadataMap().get(WireContract.JWT_NAMESPACE);
        Value payload = namespace == null ? null : namespace.getFieldsMap().get(JWT_PAYLOAD_KEY);
        return payload == null || payload.getKindCase() != Value.KindCase.STRUCT_VALUE ? null : payload.getStructValue();
    }

    /**
     * A claim of the verified {@code payload}: the claim called {@code name} (a URL-like name may
     * contain dots), else the value at the dotted {@code path}; {@code null} when there is no
     * verified token ({@code payload} is null) or the claim is missing or not a string or number.
     */
    static String jwtClaim(Struct payload, String name, List<String> path) {
        if (payload == null) {
            return null;
        }
        Value value = payload.getFieldsMap().get(name);
        if (value == null) {
            value = Value.newBuilder().setStructValue(payload).build();
            for (String step : path) {
                if (value == null || value.getKindCase() != Value.KindCase.STRUCT_VALUE) {
                    return null;
                }
                value = value.getStructValue().getFieldsMap().get(step);
            }
        }
        if (value == null) {
            return null;
        }
        return switch (value.getKindCase()) {
            case STRING_VALUE -> value.getStringValue();
            case NUMBER_VALUE -> value.getNumberValue() == Math.rint(value.getNumberValue())
                    ? Long.toString((long) value.getNumberValue()) : Double.toString(value.getNumberValue());
            default -> null;
        };
    }

    private static String value(HeaderValue header) {
        return header.getRawValue().isEmpty() ? header.getValue() : header.getRawValue().toString(StandardCharsets.UTF_8);
    }
}
