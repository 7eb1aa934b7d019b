package io.aimesh.xds.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.Limit;
import io.aimesh.policy.LoadResult;
import io.aimesh.policy.PolicyLoader;
import io.aimesh.policy.PolicySet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the filter's configuration names a tenant's limits. */
class FilterConfigCompilerTest {

    @Test
    void limits_areNamedByModelsWindowAndCount_andStayNamedWhenReordered() {
        String limits = """
                    - {window: 1m, tokens: 600, count: total}
                    - {models: [llama], window: 1h, tokens: 9000, count: output}
                    - {models: [llama], window: 1h, tokens: 5000, count: output}
                """;
        String reordered = """
                    - {models: [llama], window: 1h, tokens: 9000, count: output}
                    - {window: 1m, tokens: 600, count: total}
                """;

        assertThat(ids(limits)).containsExactly("*:tokens-per-minute:total", "llama:tokens-per-hour:output",
                "llama:tokens-per-hour:output#2");
        assertThat(ids(reordered)).containsExactly("llama:tokens-per-hour:output", "*:tokens-per-minute:total");
    }

    private static List<String> ids(String limits) {
        LoadResult result = PolicyLoader.load(Map.of("p.yaml", """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: llama-v1}
                spec:
                  endpoints: ["127.0.0.1:8000"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: llama}
                spec:
                  model: llama
                  versions: [{name: v1, pool: llama-v1, weight: 1}]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: acme}
                spec:
                  identity:
                    header: {name: x-tenant, value: acme}
                  limits:
                """ + limits));
        assertThat(result.errors()).as("policy errors").isEmpty();
        PolicySet policies = result.policies();
        FilterConfig config = FilterConfigCompiler.compile(policies, Map.of("llama-v1", List.of("127.0.0.1:8000")));
        return config.getTenants(0).getLimitsList().stream().map(Limit::getId).toList();
    }
}
