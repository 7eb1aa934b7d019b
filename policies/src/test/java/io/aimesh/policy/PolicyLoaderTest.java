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
                "a.yaml:6:3: InferencePool/p spec.colour: unknown field 'colour' (expected one of: endpoints, connectTimeout, balancing)",
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
