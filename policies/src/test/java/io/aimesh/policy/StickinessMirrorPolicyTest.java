package io.aimesh.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class StickinessMirrorPolicyTest {
    private static final String BASE = TwoVersionRoute.POLICIES;

    private static ModelRoute route(String extra) {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", BASE + extra));
        assertThat(result.errors()).isEmpty();
        return result.policies().routes().get(0);
    }

    @Test
    void stickiness_byTenant_headerOrClaim() {
        assertThat(route("  stickiness: {by: tenant}\n").stickiness())
                .isEqualTo(new ModelRoute.Stickiness(ModelRoute.Stickiness.By.TENANT, null));
        assertThat(route("  stickiness: {by: header, name: x-user-id}\n").stickiness())
                .isEqualTo(new ModelRoute.Stickiness(ModelRoute.Stickiness.By.HEADER, "x-user-id"));
    }

    @Test
    void stickiness_byJwtClaim_withAGatewayThatVerifiesTokens() {
        String jwtGateway = BASE.replace("spec: {filter: {address: \"127.0.0.1:9001\"}}", """
                spec:
                  filter: {address: "127.0.0.1:9001"}
                  identity:
                    jwt:
                      issuer: https://issuer.example
                      audiences: [aimesh]
                      jwks: '{"keys":[{"kty":"RSA","n":"sXch","e":"AQAB","kid":"k"}]}'
                """);
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", jwtGateway + "  stickiness: {by: jwtClaim, name: org.user}\n"));

        assertThat(result.errors()).isEmpty();
        assertThat(result.policies().routes().get(0).stickiness())
                .isEqualTo(new ModelRoute.Stickiness(ModelRoute.Stickiness.By.JWT_CLAIM, "org.user"));
    }

    @Test
    void mirror_readWithItsDefault_andMakesTheFilterRoute() {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", BASE + "  mirror: {version: v2, percent: 10}\n"));

        assertThat(result.errors()).isEmpty();
        ModelRoute route = result.policies().routes().get(0);
        assertThat(route.mirror()).isEqualTo(new ModelRoute.Mirror("v2", 10, 16));
        assertThat(result.policies().filterRouted(route)).isTrue();
        assertThat(route("  mirror: {version: v2, percent: 100, maxInFlight: 3}\n").mirror())
                .isEqualTo(new ModelRoute.Mirror("v2", 100, 3));
    }

    @Test
    void aStickinessHeaderThatCarriesIdentity_isRefused() {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", BASE + "  stickiness: {by: header, name: authorization}\n"));

        assertThat(result.errors()).extracting(PolicyError::toString).containsExactly(
                "a.yaml:22:34: ModelRoute/r spec.stickiness.name: 'authorization' cannot be a stickiness key: it carries a tenant's identity");
    }

    @Test
    void aStickinessHeaderName_mustBeAHeaderName() {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", BASE + "  stickiness: {by: header, name: X-User}\n"));

        assertThat(result.errors()).extracting(PolicyError::toString).containsExactly(
                "a.yaml:22:34: ModelRoute/r spec.stickiness.name: 'X-User' is not a lower-case HTTP header name");
    }
}
