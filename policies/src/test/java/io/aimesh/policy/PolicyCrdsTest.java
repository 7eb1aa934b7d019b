package io.aimesh.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

class PolicyCrdsTest {
    private static final Path COMMITTED = Path.of("../deploy/crds");

    @Test
    void crds_areTheCommittedFiles() throws IOException {
        // Regenerate with `bin/aimesh schema --crds deploy/crds`.
        for (Map.Entry<String, String> file : PolicyCrds.files().entrySet()) {
            assertThat(Files.readString(COMMITTED.resolve(file.getKey()))).as(file.getKey()).isEqualTo(file.getValue());
        }
        try (var listed = Files.list(COMMITTED)) {
            assertThat(listed.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(PolicyCrds.GROUP + "_")))
                    .as("no CRD of a kind that is gone").containsExactlyInAnyOrderElementsOf(PolicyCrds.files().keySet());
        }
    }

    @Test
    void crds_oneNamespacedKindEach() {
        List<String> kinds = new ArrayList<>();
        for (String yaml : PolicyCrds.files().values()) {
            Map<?, ?> spec = (Map<?, ?>) parse(yaml).get("spec");
            assertThat(spec.get("group")).isEqualTo("aimesh.io");
            assertThat(spec.get("scope")).isEqualTo("Namespaced");
            kinds.add((String) ((Map<?, ?>) spec.get("names")).get("kind"));
        }
        assertThat(kinds).containsExactly("InferencePool", "ModelRoute", "Tenant", "Gateway", "Team", "Organization");
    }

    @Test
    void crds_schemasAreStructural() {
        for (String yaml : PolicyCrds.files().values()) {
            Map<?, ?> version = (Map<?, ?>) ((List<?>) ((Map<?, ?>) parse(yaml).get("spec")).get("versions")).get(0);
            Object schema = ((Map<?, ?>) version.get("schema")).get("openAPIV3Schema");
            assertStructural(schema, "openAPIV3Schema");
        }
    }

    @Test
    void crds_keepEveryFieldAndItsDefault() {
        String tenant = PolicyCrds.files().get("aimesh.io_tenants.yaml");
        assertThat(tenant).contains("requestsPerMinute:", "allowedModels:", "Default: standard.");
        String gateway = PolicyCrds.files().get("aimesh.io_gateways.yaml");
        assertThat(gateway).contains("maxLength: 4096", "maximum: 67108864");
    }

    /** Kubernetes' rules: every node typed; no additionalProperties beside properties; nothing but logic in allOf. */
    private static void assertStructural(Object node, String path) {
        assertThat(node).as(path).isInstanceOf(Map.class);
        Map<?, ?> schema = (Map<?, ?>) node;
        assertThat(schema.containsKey("type") || schema.containsKey("x-kubernetes-preserve-unknown-fields"))
                .as(path + " has a type").isTrue();
        assertThat(schema.containsKey("properties") && schema.containsKey("additionalProperties"))
                .as(path + " has properties and additionalProperties").isFalse();
        assertThat(new ArrayList<Object>(schema.keySet())).as(path).doesNotContain("allOf", "anyOf", "oneOf", "not", "$ref", "const");
        if (schema.get("properties") instanceof Map<?, ?> properties) {
            properties.forEach((name, child) -> assertStructural(child, path + "." + name));
        }
        if (schema.get("additionalProperties") instanceof Map<?, ?> value) {
            assertStructural(value, path + ".*");
        }
        if (schema.get("items") != null) {
            assertStructural(schema.get("items"), path + "[]");
        }
    }

    private static Map<?, ?> parse(String yaml) {
        return (Map<?, ?>) new Load(LoadSettings.builder().build()).loadFromString(yaml);
    }
}
