package io.aimesh.xds.translate;

import io.aimesh.policy.Gateway;
import io.aimesh.policy.Jwks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementOrList;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RequirementRule;
import com.google.protobuf.Empty;

/**
 * Envoy's {@code jwt_authn} filter, ahead of the ai-filter: Envoy checks a token's signature,
 * issuer, audience and lifetime, answers 401 itself when one fails, and hands the verified payload
 * to the ai-filter as dynamic metadata. The filter never parses a token, so it can only ever see a
 * payload Envoy verified.
 *
 * <p>A request with no token passes ({@code allow_missing}): it may still identify itself another
 * way (an API key, when the tokens come in another header; a trusted hop), and the ai-filter
 * refuses it with 401 when it identifies no tenant. A token that is present but invalid fails here.
 * The token is not forwarded to the model servers.
 */
final class JwtConfig {
    static final String FILTER_NAME = "envoy.filters.http.jwt_authn";
    /** The metadata key of the verified payload, in namespace {@value #FILTER_NAME}; the ai-filter reads the same. */
    static final String PAYLOAD_KEY = "jwt_payload";
    private static final String PROVIDER = "aimesh";

    private JwtConfig() {
    }

    /**
     * Refuses a {@code jwksFile} with a symmetric key, as the policy loader refuses an inline one
     * ({@link Jwks}). Envoy reads the file, so it need not exist where the control plane runs: a file
     * the control plane cannot read is left to Envoy, and the check is only as good as that copy.
     */
    static void checkKeyFile(Gateway.Jwt jwt) throws TranslationException {
        if (jwt.jwksFile() == null) {
            return;
        }
        Path file = Path.of(jwt.jwksFile());
        if (!Files.isReadable(file)) {
            return;
        }
        String json;
        try {
            json = Files.readString(file);
        } catch (IOException e) {
            throw new TranslationException("Gateway identity.jwt.jwksFile: cannot read " + file + ": " + e.getMessage(), e);
        }
        if (Jwks.hasSymmetricKey(json)) {
            throw new TranslationException("Gateway identity.jwt.jwksFile " + file + ": " + Jwks.SYMMETRIC_KEY_REFUSED, null);
        }
    }

    static JwtAuthentication of(Gateway.Jwt jwt) {
        JwtProvider.Builder provider = JwtProvider.newBuilder()
                .setIssuer(jwt.issuer())
                .addAllAudiences(jwt.audiences())
                .setLocalJwks(jwt.jwksFile() != null
                        ? DataSource.newBuilder().setFilename(jwt.jwksFile()).build()
                        : DataSource.newBuilder().setInlineString(jwt.jwks()).build())
                .setForward(false)
                .setPayloadInMetadata(PAYLOAD_KEY)
                .setClockSkewSeconds((int) jwt.clockSkew().toSeconds());
        if (jwt.header().equals("authorization")) {
            provider.addFromHeaders(JwtHeader.newBuilder().setName("authorization").setValuePrefix("Bearer "));
        } else {
            provider.addFromHeaders(JwtHeader.newBuilder().setName(jwt.header()));
        }
        JwtRequirement requirement = JwtRequirement.newBuilder()
                .setRequiresAny(JwtRequirementOrList.newBuilder()
                        .addRequirements(JwtRequirement.newBuilder().setProviderName(PROVIDER))
                        .addRequirements(JwtRequirement.newBuilder().setAllowMissing(Empty.getDefaultInstance())))
                .build();
        return JwtAuthentication.newBuilder()
                .putProviders(PROVIDER, provider.build())
                .addRules(RequirementRule.newBuilder()
                        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                        .setRequires(requirement))
                .build();
    }
}
