package io.aimesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.istio.IstioResources;
import io.fabric8.istio.api.networking.v1alpha3.EnvoyFilter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IstioCommandTest {

    @Test
    void render_writesOneFilePerKindWithTheFlagsApplied(@TempDir Path out) throws Exception {
        CliTest.Run run = CliTest.run("istio", "render", "--policies", "../policies/examples", "--mode", "sidecar",
                "--ai-filter", "aimesh-filter.aimesh-system.svc.cluster.local:18080", "--selector", "app=llama,tier=gpu",
                "--namespace", "models", "--out", out.toString());

        assertThat(run.code()).as(run.err()).isZero();
        try (var files = Files.list(out)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder(
                    "envoyfilter.yaml", "destinationrule.yaml", "virtualservice.yaml", "serviceentry.yaml");
        }
        EnvoyFilter filter = IstioResources.read(Files.readString(out.resolve("envoyfilter.yaml")), EnvoyFilter.class).get(0);
        assertThat(filter.getMetadata().getNamespace()).isEqualTo("models");
        assertThat(filter.getSpec().getWorkloadSelector().getLabels()).containsEntry("app", "llama").containsEntry("tier", "gpu");
        assertThat(Files.readString(out.resolve("envoyfilter.yaml")))
                .contains("SIDECAR_INBOUND", "aimesh-filter.aimesh-system.svc.cluster.local", "STRICT_DNS");
        // The example's picker pool cannot pick in a sidecar: said, not hidden.
        assertThat(run.err()).contains("note: InferencePool/llama-3-8b-v2: picker balancing needs the ai-filter before routing");
    }

    @Test
    void render_putsAGatewaysEnvoyFilterBesideTheGatewayPods(@TempDir Path out) throws Exception {
        CliTest.Run run = CliTest.run("istio", "render", "--policies", "../policies/examples", "--namespace", "models",
                "--gateway-namespace", "edge", "--out", out.toString());

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(IstioResources.read(Files.readString(out.resolve("envoyfilter.yaml")), EnvoyFilter.class))
                .extracting(f -> f.getMetadata().getNamespace()).containsOnly("edge");
        assertThat(Files.readString(out.resolve("virtualservice.yaml"))).contains("namespace: \"models\"")
                .contains("models/aimesh-gateway");
    }

    @Test
    void render_refusesABadFlagAndBrokenPoliciesWithoutWriting(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        CliTest.Run mode = CliTest.run("istio", "render", "--policies", "../policies/examples", "--mode", "ambient",
                "--out", out.toString());
        assertThat(mode.code()).isEqualTo(2);
        assertThat(mode.err()).contains("--mode: 'ambient' (expected: sidecar or gateway)");

        CliTest.Run selector = CliTest.run("istio", "render", "--policies", "../policies/examples", "--selector", "app",
                "--out", out.toString());
        assertThat(selector.code()).isEqualTo(2);
        assertThat(selector.err()).contains("--selector: 'app' (expected: KEY=VALUE)");

        Path policies = Files.createDirectory(dir.resolve("policies"));
        Files.writeString(policies.resolve("bad.yaml"), """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p}
                spec:
                  endpoints: [10.0.0.1:8000]
                  selector: {app: "not a label"}
                """);
        CliTest.Run broken = CliTest.run("istio", "render", "--policies", policies.toString(), "--out", out.toString());
        assertThat(broken.code()).isEqualTo(1);
        assertThat(broken.err()).contains("bad.yaml:6:").contains("spec.selector.app");
        assertThat(out).doesNotExist();
    }

    @Test
    void render_namesEveryProblemWhenThereIsNoFilterOrAPoolIsNotOneService(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("p.yaml"), """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p}
                spec:
                  endpoints: [a.models.svc.cluster.local:8000, b.models.svc.cluster.local:8000]
                  selector: {app: llama}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: m}
                spec:
                  model: m
                  versions: [{name: v1, pool: p, weight: 1}]
                """);
        CliTest.Run run = CliTest.run("istio", "render", "--policies", dir.toString(), "--out", dir.resolve("out").toString());

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("Gateway: none with spec.filter")
                .contains("InferencePool/p: a pool with a selector has one endpoint, its pods' Service");
    }
}
