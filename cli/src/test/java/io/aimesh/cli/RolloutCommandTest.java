package io.aimesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code aimesh rollout} against a real control plane's admin API (no Envoy: the commands only need the API). */
class RolloutCommandTest {
    @TempDir
    Path directory;
    private ControlPlane controlPlane;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws Exception {
        Path policies = Files.createDirectories(directory.resolve("policies"));
        Files.writeString(policies.resolve("all.yaml"), """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: g}
                spec: {filter: {address: "127.0.0.1:9001"}}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p1}
                spec: {endpoints: ["127.0.0.1:18101"]}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p2}
                spec: {endpoints: ["127.0.0.1:18102"]}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: r}
                spec:
                  model: llama
                  versions: [{name: v1, pool: p1, weight: 100}, {name: v2, pool: p2, weight: 0}]
                  rollout: {baseline: v1, canary: v2, steps: [{weight: 10}, {weight: 50}]}
                """);
        controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(policies).withXds("127.0.0.1", 0)
                .withAdmin("127.0.0.1", 0).withRolloutState(directory.resolve("rollouts.json")));
    }

    @AfterEach
    void stop() throws Exception {
        controlPlane.close();
    }

    @Test
    void status_pause_resume_abort_andPromote_goThroughTheAdminApi() {
        assertThat(run("status", "llama")).isZero();
        assertThat(out.toString()).startsWith("llama: progressing, step 1/2, v2 at 10 % (baseline v1)");

        assertThat(run("pause", "llama")).isZero();
        assertThat(out.toString()).contains("llama: paused, step 1/2");
        assertThat(run("pause", "llama")).isEqualTo(1);
        assertThat(err.toString()).contains("cannot pause the rollout of llama: it is paused");

        assertThat(run("resume", "llama")).isZero();
        assertThat(run("abort", "llama")).isZero();
        assertThat(out.toString()).contains("llama: aborted, step 1/2, v2 at 0 %").contains("aborted by an operator");
        assertThat(run("promote", "llama")).isZero();
        assertThat(out.toString()).contains("llama: promoted, step 1/2, v2 at 100 %");

        assertThat(run("status")).isZero(); // all rollouts
        assertThat(out.toString()).startsWith("llama: promoted");
        assertThat(run("abort", "mistral")).isEqualTo(1);
        assertThat(err.toString()).contains("no rollout of model 'mistral' (rollouts: llama)");
        assertThat(run("explode", "llama")).isEqualTo(2);
    }

    @Test
    void theAdminApi_refusesAnActionWithoutAJsonContentType_andShowsRolloutsInTheConfigDump() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String admin = "http://127.0.0.1:" + controlPlane.adminPort();
        HttpResponse<String> form = http.send(HttpRequest.newBuilder(URI.create(admin + "/rollouts/llama/abort"))
                .header("content-type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("a=b")).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> dump = http.send(HttpRequest.newBuilder(URI.create(admin + "/config_dump")).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(admin + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(form.statusCode()).isEqualTo(415);
        assertThat(controlPlane.rollouts().status("llama").state()).isEqualTo("progressing");
        assertThat(dump.body()).contains("\"rollouts\"").contains("\"canaryWeight\" : 10");
        assertThat(metrics.body()).contains("aimesh_rollout_step{model=\"llama\"} 1.0")
                .contains("aimesh_rollout_state{model=\"llama\",state=\"progressing\"} 1.0");
    }

    private int run(String... args) {
        out.reset();
        err.reset();
        RolloutCommand command = new RolloutCommand();
        command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        command.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        String[] all = java.util.Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--admin";
        all[args.length + 1] = "http://127.0.0.1:" + controlPlane.adminPort();
        return new CommandLine(command).execute(all);
    }
}
