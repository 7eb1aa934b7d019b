package io.aimesh.filter.extproc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The tenant claim is read from the payload Envoy verified, by whole name or dotted path. */
class JwtClaimTest {
    @Test
    void claim_byWholeName_evenWithDots_elseByPath_elseNothing() {
        Struct payload = Struct.newBuilder()
                .putFields("https://example.com/tenant", string("acme"))
                .putFields("org", Value.newBuilder().setStructValue(Struct.newBuilder()
                        .putFields("tenant", string("globex")).putFields("id", Value.newBuilder().setNumberValue(42).build())).build())
                .putFields("groups", Value.newBuilder().setListValue(com.google.protobuf.ListValue.newBuilder()
                        .addValues(string("a"))).build())
                .build();
        ProcessingRequest request = withPayload(payload);

        assertThat(IdentifyStage.jwtClaim(IdentifyStage.jwtPayload(request), "https://example.com/tenant",
                List.of("https://example", "com/tenant"))).isEqualTo("acme");
        assertThat(IdentifyStage.jwtClaim(IdentifyStage.jwtPayload(request), "org.tenant", List.of("org", "tenant"))).isEqualTo("globex");
        assertThat(IdentifyStage.jwtClaim(IdentifyStage.jwtPayload(request), "org.id", List.of("org", "id"))).isEqualTo("42");
        assertThat(IdentifyStage.jwtClaim(IdentifyStage.jwtPayload(request), "groups", List.of("groups"))).isNull();
        assertThat(IdentifyStage.jwtClaim(IdentifyStage.jwtPayload(request), "missing", List.of("missing"))).isNull();
        assertThat(IdentifyStage.jwtClaim(IdentifyStage.jwtPayload(ProcessingRequest.getDefaultInstance()), "sub", List.of("sub"))).isNull();
        assertThat(IdentifyStage.jwtPayload(request)).isEqualTo(payload);
        assertThat(IdentifyStage.jwtPayload(ProcessingRequest.getDefaultInstance())).isNull();
    }

    private static ProcessingRequest withPayload(Struct payload) {
        return ProcessingRequest.newBuilder().setMetadataContext(Metadata.newBuilder()
                .putFilterMetadata("envoy.filters.http.jwt_authn", Struct.newBuilder()
                        .putFields("jwt_payload", Value.newBuilder().setStructValue(payload).build()).build()))
                .build();
    }

    private static Value string(String text) {
        return Value.newBuilder().setStringValue(text).build();
    }
}
