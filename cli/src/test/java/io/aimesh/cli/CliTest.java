package io.aimesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class CliTest {

    /** Runs the launcher in-process; returns exit code, stdout and stderr. */
    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = new CommandLine(new Main()).execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    record Run(int code, String out, String err) {
    }

    @Test
    void validate_printsSummaryForTheExamples() {
        Run run = run("validate", "../policies/examples");

        assertThat(run.code()).isZero();
        assertThat(run.out()).isEqualTo("policies OK: 2 InferencePool, 1 ModelRoute, 2 Tenant, 1 Gateway" + System.lineSeparator());
    }

    @Test
    void validate_printsEveryErrorWithItsPathAndExitsOne(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("bad.yaml"), """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p}
                spec:
                  endpoints: []
                  colour: red
                """);

        Run run = run("validate", dir.toString());

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err().lines()).containsExactly(
                dir.resolve("bad.yaml") + ":5:14: InferencePool/p spec.endpoints: expected at least 1 item(s), got 0",
                dir.resolve("bad.yaml") + ":6:3: InferencePool/p spec.colour: unknown field 'colour' (expected one of: endpoints, connectTimeout, balancing, selector, dedicatedTo)",
                "2 error(s) in " + dir);
    }

    @Test
    void envoyBootstrap_pointsAtTheControlPlane() {
        Run sotw = run("envoy-bootstrap", "--node-id", "gw-1", "--xds", "10.1.2.3:18000");
        Run delta = run("envoy-bootstrap", "--node-id", "gw-1", "--delta");

        assertThat(sotw.code()).isZero();
        assertThat(sotw.out()).contains("id: \"gw-1\"", "api_type: GRPC", "address: 10.1.2.3, port_value: 18000", "type: STATIC");
        assertThat(delta.out()).contains("api_type: DELTA_GRPC", "address: 127.0.0.1, port_value: 18000");
    }

    @Test
    void envoyBootstrap_rejectsAnAddressWithoutPort() {
        Run run = run("envoy-bootstrap", "--node-id", "gw-1", "--xds", "localhost");

        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("--xds: 'localhost' (expected: HOST:PORT)");
    }

    @Test
    void everySubcommand_hasHelp() {
        for (String command : new String[] {"validate", "schema", "control-plane", "envoy-bootstrap", "model-sim", "demo"}) {
            Run run = run(command, "--help");
            assertThat(run.code()).as(command).isZero();
            assertThat(run.out()).as(command).contains("Usage: aimesh " + command);
        }
    }

    @Test
    void schema_printsTheCommittedSchema() throws Exception {
        Run run = run("schema");

        assertThat(run.out()).isEqualTo(Files.readString(Path.of("../policies/schema/aimesh-v1alpha1.schema.json")));
    }

    /**
     * A regression test for SLF4J's "Failed to load class org.slf4j.impl.StaticLoggerBinder"
     * warning at start: Lettuce's dependencies log through SLF4J, which had no binding. It runs
     * the command in a JVM of its own, because SLF4J warns once per JVM, at its first use.
     */
    @ParameterizedTest
    @ValueSource(strings = {"filter --grpc-port 0 --admin-port 0 --control-plane 127.0.0.1:1",
            "control-plane --policies ../policies/examples --xds-port 0 --admin-port 0"})
    void startingACommand_logsNothingThroughSlf4jsFallback(String command) throws Exception {
        List<String> java = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        java.addAll(List.of(command.split(" ")));
        Process process = new ProcessBuilder(java).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (var output = process.inputReader(StandardCharsets.UTF_8)) {
            for (String line = output.readLine(); line != null; line = output.readLine()) {
                lines.add(line);
                if (line.contains("(Ctrl-C stops)")) {
                    break;
                }
            }
        } finally {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }

        assertThat(lines).as("output of aimesh " + command).anyMatch(line -> line.contains("(Ctrl-C stops)"))
                .noneMatch(line -> line.contains("SLF4J"));
    }
}
