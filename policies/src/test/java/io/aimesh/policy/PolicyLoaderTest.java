package io.aimesh.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyLoaderTest {

    @Test
    void loadDirectory_readsTheExamplePolicies() throws Exception {
        LoadResult result = PolicyLoader.loadDirectory(Path.of("examples"));

        assertThat(result.errors()).isEmpty();
        PolicySet set = result.policies();
        assertThat(set.pools()).extracting(InferencePool::name).containsExactly("llama-3-8b-v1", "llama-3-8b-v2");
        assertThat(set.pool("llama-3-8b-v1").endpoints())
                .containsExactly(new Endpoint("127.0.0.1", 18101), new Endpoint("127.0.0.1", 18102));
        ModelRoute route = set.routes().get(0);
        assertThat(route.model()).isEqualTo("llama-3-8b-instruct");
        assertThat(route.versions()).containsExactly(
                new ModelVersion("v1", "llama-3-8b-v1", 90), new ModelVersion("v2", "llama-3-8b-v2", 10));
        assertThat(route.overrides()).first().isEqualTo(new HeaderOverride("x-aimesh-version", "v2", "v2"));
        assertThat(route.timeout()).isEqualTo(Duration.ofSeconds(120));
        Tenant acme = set.tenants().get(0);
        assertThat(acme.priority()).isEqualTo(Tenant.Priority.CRITICAL);
        assertThat(acme.limits().get(0).count()).isEqualTo(TokenLimit.Count.WEIGHTED);
        assertThat(acme.limits().get(0).outputWeight()).isEqualTo(3);
        assertThat(set.tenants().get(1).allowedModels()).containsExactly("*");
    }

    @Test
    void load_appliesDefaults() {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p}
                spec:
                  endpoints: ["10.0.0.1:8000"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: r}
                spec:
                  model: m
                  versions: [{name: v1, pool: p, weight: 1}]
                """));

        assertThat(result.errors()).isEmpty();
        assertThat(result.policies().pool("p").connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(result.policies().routes().get(0).timeout()).isEqualTo(Duration.ofSeconds(300));
        assertThat(result.policies().routes().get(0).overrides()).isEmpty();
    }

    @Test
    void load_readsIdentityIsolationAndPriorities() {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  filter: {address: 127.0.0.1:18080}
                  identity:
                    trustedHop: true
                    jwt: {issuer: https://issuer.example, audiences: [aimesh], jwksFile: /etc/jwks.json,
                          tenantClaim: org.tenant, clockSkew: 30s}
                  globalLimits: {redis: "redis://10.0.0.5:6379", leaseTokens: 500, whenRedisDown: open, failOpenTokens: 100}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: gold-pool}
                spec:
                  endpoints: ["10.0.0.1:8000"]
                  balancing: {mode: picker, maxInFlight: 8}
                  dedicatedTo: {tenants: [initech], tiers: [gold]}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: r}
                spec:
                  model: m
                  versions: [{name: v1, pool: gold-pool, weight: 1}]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: acme}
                spec:
                  identity: {jwtClaim: acme-corp, header: {name: x-tenant, value: acme}}
                  tier: gold
                  share: 3
                  priority: sheddable
                  modelPriorities: {m: critical}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: initech}
                spec:
                  identity: {jwtClaim: initech}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: globex}
                spec:
                  identity: {jwtClaim: globex}
                """));

        assertThat(result.errors()).isEmpty();
        PolicySet set = result.policies();
        Gateway.Jwt jwt = set.gateway().identity().jwt();
        assertThat(jwt).isEqualTo(new Gateway.Jwt("https://issuer.example", List.of("aimesh"), "/etc/jwks.json", null,
                "org.tenant", "authorization", Duration.ofSeconds(30)));
        assertThat(set.gateway().identity().trustedHop()).isTrue();
        assertThat(set.gateway().globalLimits()).isEqualTo(new Gateway.GlobalLimits("redis://10.0.0.5:6379", 500,
                Duration.ofMillis(10), true, 100, Duration.ofMillis(250), 1_000_000));
        assertThat(set.pool("gold-pool").dedicatedTenants()).containsExactlyInAnyOrder("initech", "acme");
        assertThat(set.pool("gold-pool").balancing().maxInFlight()).isEqualTo(8);
        Tenant acme = set.tenants().get(0);
        assertThat(acme.jwtClaim()).isEqualTo("acme-corp");
        assertThat(acme.share()).isEqualTo(3);
        assertThat(acme.modelPriorities()).isEqualTo(Map.of("m", Tenant.Priority.CRITICAL));
        assertThat(set.tenants().get(2).share()).isEqualTo(1);
    }

    @Test
    void namespaces_scopeTheSet_eachWithItsOwnGateway_andTheSameModelNameMayBeRoutedInEach() {
        String team = """
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: %1$s-edge, namespace: %1$s}
                spec:
                  filter: {address: 127.0.0.1:18080}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: %1$s-pool, namespace: %1$s}
                spec:
                  endpoints: ["10.0.0.1:8000"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: %1$s-llama, namespace: %1$s}
                spec:
                  model: llama
                  versions: [{name: v1, pool: %1$s-pool, weight: 1}]
                """;
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", team.formatted("team-a") + team.formatted("team-b")));

        assertThat(result.errors()).isEmpty();
        PolicySet set = result.policies();
        assertThat(set.namespaces()).containsExactly("team-a", "team-b");
        PolicySet a = set.scope("team-a");
        assertThat(a.pools()).extracting(InferencePool::name).containsExactly("team-a-pool");
        assertThat(a.routes()).extracting(ModelRoute::name).containsExactly("team-a-llama");
        assertThat(a.gateway().name()).isEqualTo("team-a-edge");
        assertThat(set.scope("team-c").pools()).isEmpty();
        assertThat(PolicySet.empty().namespaces()).containsExactly(PolicySet.DEFAULT_NAMESPACE);
    }

    @Test
    void load_skipsEmptyDocumentAfterTrailingSeparator() {
        // Generated multi-document files often end in "---"; that empty document used to be an error.
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", """
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p}
                spec:
                  endpoints: ["10.0.0.1:8000"]
                ---
                """));

        assertThat(result.errors()).isEmpty();
        assertThat(result.policies().pools()).extracting(InferencePool::name).containsExactly("p");
    }

    @Test
    void load_reportsEveryErrorAcrossFilesAtOnce() {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("a.yaml", """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p}
                spec:
                  endpoints: ["10.0.0.1:8000"]
                  colour: blue
                """);
        files.put("b.yaml", """
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: r}
                spec:
                  model: m
                  versions:
                    - {name: v1, pool: nope, weight: -1}
                """);

        LoadResult result = PolicyLoader.load(files);

        assertThat(result.ok()).isFalse();
        assertThat(result.errors()).extracting(PolicyError::toString).containsExactly(
                "a.yaml:6:3: InferencePool/p spec.colour: unknown field 'colour' (expected one of: endpoints, connectTimeout, balancing, selector, dedicatedTo)",
                "b.yaml:7:38: ModelRoute/r spec.versions[0].weight: -1 is out of range (expected: 0..10000)");
    }

    @Test
    void schema_isTheCommittedFile() throws Exception {
        // The committed schema is what editors use; regenerate with `bin/aimesh schema > policies/schema/...`.
        String committed = java.nio.file.Files.readString(Path.of("schema/aimesh-v1alpha1.schema.json"));
        assertThat(committed).isEqualTo(PolicySchema.json());
    }

    @Test
    void schema_listsEveryKindAndField() {
        String schema = PolicySchema.json();
        for (String kind : List.of("InferencePool", "ModelRoute", "Tenant")) {
            assertThat(schema).contains("\"" + kind + "\"");
        }
        assertThat(schema).contains("\"requestsPerMinute\"", "\"overrides\"", "\"connectTimeout\"");
    }
}
