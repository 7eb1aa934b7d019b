package io.aimesh.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aimesh.testing.GoTool;
import io.aimesh.testing.KubernetesSchemas;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * deploy/ as kubectl would apply it: each kustomization rendered by kustomize, then checked by
 * {@code kubeconform -strict} against the Kubernetes API's schemas of the oldest and newest
 * Kubernetes the manifests support, and against the policy CRDs (converted to kubeconform's
 * schema layout here, strict like the API's). The example policy files are checked as custom
 * resources the same way. cert-manager's kinds are skipped by exact name: no registry serves
 * their schemas, and skipping them by name keeps every other kind's missing schema an error.
 */
class DeployManifestsIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final List<String> KUBERNETES = List.of("1.30.0", "1.37.0");
    private static final String SKIPPED = "cert-manager.io/v1/Certificate,cert-manager.io/v1/Issuer";

    @TempDir
    static Path work;
    private static Path kubeconform;
    private static Path kustomize;
    private static Path schemas;
    private static Path crdSchemas;

    @BeforeAll
    static void tools() throws IOException {
        var kc = GoTool.KUBECONFORM.locate();
        assumeTrue(kc.isPresent(), GoTool.KUBECONFORM.skipMessage());
        var kz = GoTool.KUSTOMIZE.locate();
        assumeTrue(kz.isPresent(), GoTool.KUSTOMIZE.skipMessage());
        for (String version : KUBERNETES) {
            var root = KubernetesSchemas.locate(version);
            assumeTrue(root.isPresent(), KubernetesSchemas.skipMessage());
            schemas = root.get();
        }
        kubeconform = kc.get();
        kustomize = kz.get();
        crdSchemas = crdSchemas(Files.createDirectories(work.resolve("crd-schemas")));
    }

    @Test
    void crds_validate() throws Exception {
        assertValid(render("deploy/crds"));
    }

    @Test
    void kubernetesOverlay_validates() throws Exception {
        Path rendered = render("deploy/overlays/kubernetes");
        assertValid(rendered);
        assertThat(Files.readString(rendered)).contains("kind: PodDisruptionBudget", "readOnlyRootFilesystem: true",
                "path: /readyz", "--xds-tls-client-ca=/etc/aimesh/tls/ca.crt");
    }

    @Test
    void istioOverlay_validates() throws Exception {
        assertValid(render("deploy/overlays/istio"));
    }

    @Test
    void redisComponent_validatesOnTheKubernetesOverlay() throws Exception {
        Path dir = Files.createDirectories(work.resolve("with-redis"));
        Files.writeString(dir.resolve("kustomization.yaml"), """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources: [%s]
                components: [%s]
                """.formatted(dir.relativize(ROOT.resolve("deploy/overlays/kubernetes")),
                dir.relativize(ROOT.resolve("deploy/components/redis"))));
        Path rendered = render(dir.toString());
        assertValid(rendered);
        assertThat(Files.readString(rendered)).contains("name: aimesh-redis");
    }

    @Test
    void rolloutsComponent_runsOneReplicaWithItsStateOnAVolume() throws Exception {
        Path dir = Files.createDirectories(work.resolve("with-rollouts"));
        Files.writeString(dir.resolve("kustomization.yaml"), """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources: [%s]
                components: [%s]
                """.formatted(dir.relativize(ROOT.resolve("deploy/overlays/istio")),
                dir.relativize(ROOT.resolve("deploy/components/rollouts"))));
        Path rendered = render(dir.toString());
        assertValid(rendered);
        assertThat(Files.readString(rendered)).contains("--rollout-state=/var/lib/aimesh/rollouts.json")
                .contains("claimName: aimesh-rollout-state").contains("type: Recreate").contains("replicas: 1");
    }

    @Test
    void sidecarExample_validates() throws Exception {
        assertValid(ROOT.resolve("deploy/examples/filter-sidecar.yaml"));
    }

    @Test
    void examplePolicies_validateAsCustomResources() throws Exception {
        try (Stream<Path> files = Files.list(ROOT.resolve("policies/examples"))) {
            List<Path> examples = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
            assertThat(examples).isNotEmpty();
            for (Path example : examples) {
                assertValid(example);
            }
        }
    }

    @Test
    void strictness_refusesUnknownFieldsInBothSchemaSources() throws Exception {
        Path policy = work.resolve("unknown-field.yaml");
        Files.writeString(policy, """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata:
                  name: p
                spec:
                  endpoints: [10.0.0.1:8000]
                  colour: blue
                """);
        assertThat(kubeconform(policy, KUBERNETES.get(0))).contains("colour");
        Path service = work.resolve("bad-service.yaml");
        Files.writeString(service, """
                apiVersion: v1
                kind: Service
                metadata:
                  name: s
                spec:
                  prots: [{port: 1}]
                """);
        assertThat(kubeconform(service, KUBERNETES.get(0))).contains("prots");
    }

    private static Path render(String kustomization) throws Exception {
        Path dir = Path.of(kustomization).isAbsolute() ? Path.of(kustomization) : ROOT.resolve(kustomization);
        Path out = work.resolve(dir.getFileName() + "-" + System.nanoTime() + ".yaml");
        Result result = run(List.of(kustomize.toString(), "build", dir.toString()));
        assertThat(result.exit()).as("kustomize build %s: %s", dir, result.output()).isZero();
        Files.writeString(out, result.output());
        return out;
    }

    private static void assertValid(Path manifests) throws Exception {
        for (String version : KUBERNETES) {
            String failure = kubeconform(manifests, version);
            assertThat(failure).as("kubeconform (Kubernetes %s) on %s", version, manifests).isNull();
        }
    }

    /** Runs kubeconform; returns its report when it failed, {@code null} when everything is valid. */
    private static String kubeconform(Path manifests, String version) throws Exception {
        Result result = run(List.of(kubeconform.toString(), "-strict", "-summary", "-kubernetes-version", version,
                "-schema-location", KubernetesSchemas.location(schemas),
                "-schema-location", crdSchemas + "/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",
                "-skip", SKIPPED, manifests.toString()));
        assertThat(result.output()).as("kubeconform on %s", manifests).containsPattern("Summary: [1-9][0-9]* resources? found");
        return result.exit() == 0 ? null : result.output();
    }

    /** Each CRD's openAPIV3Schema as kubeconform's JSON Schema; strict: unknown fields refused, as kubectl does. */
    private static Path crdSchemas(Path into) throws IOException {
        ObjectMapper json = new ObjectMapper();
        try (Stream<Path> crds = Files.list(ROOT.resolve("deploy/crds"))) {
            for (Path crd : crds.filter(p -> p.getFileName().toString().startsWith("aimesh.io_")).toList()) {
                Map<?, ?> doc = (Map<?, ?>) new Load(LoadSettings.builder().build())
                        .loadFromString(Files.readString(crd, StandardCharsets.UTF_8));
                Map<?, ?> spec = (Map<?, ?>) doc.get("spec");
                String kind = ((String) ((Map<?, ?>) spec.get("names")).get("kind")).toLowerCase(java.util.Locale.ROOT);
                for (Object v : (List<?>) spec.get("versions")) {
                    Map<?, ?> version = (Map<?, ?>) v;
                    Map<?, ?> schema = (Map<?, ?>) strict(((Map<?, ?>) version.get("schema")).get("openAPIV3Schema"));
                    // metadata is ObjectMeta, of which the CRD names only the name: its other fields stay open.
                    ((Map<?, ?>) ((Map<?, ?>) schema.get("properties")).get("metadata")).remove("additionalProperties");
                    json.writeValue(into.resolve(kind + "_" + version.get("name") + ".json").toFile(), schema);
                }
            }
        }
        return into;
    }

    private static Object strict(Object node) {
        if (node instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put((String) k, strict(v)));
            if (map.containsKey("properties") && !map.containsKey("additionalProperties")) {
                out.put("additionalProperties", false);
            }
            return out;
        }
        if (node instanceof List<?> list) {
            List<Object> out = new ArrayList<>();
            list.forEach(v -> out.add(strict(v)));
            return out;
        }
        return node;
    }

    private record Result(int exit, String output) {
    }

    private static Result run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(2, TimeUnit.MINUTES)).as("%s finished", command.get(0)).isTrue();
        return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    }
}
