package io.aimesh.istio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.aimesh.policy.LoadResult;
import io.aimesh.policy.PolicyLoader;
import io.aimesh.testing.GoTool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Istio's own analyzer on every rendered example: {@code istioctl analyze --use-kube=false} (all
 * namespaces: without {@code -A} it looks at {@code default} alone and passes anything elsewhere)
 * reports nothing but IST0133, the notice it gives for every EnvoyFilter. istioctl is built from
 * the Go module proxy at the pinned version (GoTool); the test skips loudly when it cannot be built.
 */
class IstioctlAnalyzeIT {
    private static Path istioctl;

    @BeforeAll
    static void buildIstioctl() {
        var built = GoTool.ISTIOCTL.locate();
        assumeTrue(built.isPresent(), GoTool.ISTIOCTL.skipMessage());
        istioctl = built.get();
    }

    static Stream<Arguments> examples() {
        List<Arguments> all = new ArrayList<>();
        for (String dir : List.of("../policies/examples", "examples/policies")) {
            for (String variant : List.of("gateway", "gateway+ecds", "sidecar", "sidecar+ecds", "gateway+inference-extension")) {
                all.add(Arguments.of(dir, variant));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("examples")
    void analyze_reportsNothingButTheEnvoyFilterNotice(String dir, String variant, @TempDir Path out) throws Exception {
        render(dir, variant, out);
        List<String> messages = analyze(out);
        assertThat(messages).as("istioctl analyze of %s %s", dir, variant)
                .isNotEmpty() // IST0133 at least: the analyzer read the EnvoyFilter
                .allSatisfy(line -> assertThat(line).contains("[IST0133]"));
    }

    /** The check above can fail: the same analyzer flags the render's EnvoyFilter once its priority is gone. */
    @Test
    void analyze_flagsARelativePatchWithoutPriority(@TempDir Path out) throws Exception {
        render("examples/policies", "gateway", out);
        Path envoyFilter = out.resolve("envoyfilter.yaml");
        String yaml = Files.readString(envoyFilter);
        assertThat(yaml).contains("priority: " + EnvoyFilterPatches.PRIORITY);
        Files.writeString(envoyFilter, yaml.replace("priority: " + EnvoyFilterPatches.PRIORITY, ""));
        assertThat(analyze(out)).anySatisfy(line -> assertThat(line).contains("[IST0151]"));
    }

    private static void render(String dir, String variant, Path out) throws Exception {
        LoadResult loaded = PolicyLoader.loadDirectory(Path.of(dir));
        assertThat(loaded.errors()).isEmpty();
        boolean sidecar = variant.startsWith("sidecar");
        RenderOptions options = new RenderOptions(sidecar ? RenderOptions.Mode.SIDECAR : RenderOptions.Mode.GATEWAY, null,
                sidecar ? Map.of("app", "llama") : Map.of(), "models", variant.contains("ecds"),
                variant.contains("inference-extension"));
        IstioRenderer.render(loaded.policies(), options).write(out);
    }

    /** The analyzer's messages, one line each; the rendered files plus the cluster the examples stand for. */
    private static List<String> analyze(Path rendered) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(istioctl.toString(), "analyze", "--use-kube=false", "--all-namespaces",
                "--output", "log"));
        try (Stream<Path> files = Files.list(rendered)) {
            files.filter(f -> f.toString().endsWith(".yaml")).sorted().forEach(f -> command.add(f.toString()));
        }
        command.add(Path.of("examples/cluster/models.yaml").toAbsolutePath().toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
        // Exit 0: nothing; 79: warnings (IST0133 is one); anything else is an error or a crash.
        assertThat(process.exitValue()).as(output).isIn(0, 79);
        return output.lines().filter(l -> l.matches("^(Error|Warning|Info) \\[IST\\d+\\].*")).toList();
    }
}
