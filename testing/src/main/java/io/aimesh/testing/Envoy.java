package io.aimesh.testing;

import static java.util.Objects.requireNonNull;

import io.aimesh.internal.EnvoyBinary;
import io.aimesh.internal.EnvoyProcess;
import io.aimesh.xds.EnvoyBootstrap;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * A real Envoy for tests and benchmarks, started by aimesh-common's {@link EnvoyProcess} on the
 * binary {@link EnvoyBinary#locate} finds (the pinned version; {@code $AIMESH_ENVOY} overrides),
 * with what tests ask of it: admin GETs and stats. Thread-safe.
 */
public final class Envoy implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    private final EnvoyProcess process;

    private Envoy(EnvoyProcess process) {
        this.process = process;
    }

    /** Starts Envoy against the control plane at {@code 127.0.0.1:xdsPort}, SotW or delta ADS. */
    public static Envoy start(String nodeId, int xdsPort, boolean delta) throws IOException {
        return start(new EnvoyBootstrap(nodeId, "aimesh-test", "127.0.0.1", xdsPort, "127.0.0.1", 0, delta));
    }

    /** Starts Envoy on {@code bootstrap}, logging to {@code target/envoy-NODE.log}, 2 workers, log level info. */
    public static Envoy start(EnvoyBootstrap bootstrap) throws IOException {
        return start(bootstrap.nodeId(), bootstrap.yaml());
    }

    /** Starts Envoy on a bootstrap of its own, {@code yaml}, logging to {@code target/envoy-NODE.log}. */
    public static Envoy start(String nodeId, String yaml) throws IOException {
        return start(yaml, Path.of("target", "envoy-" + nodeId + ".log").toAbsolutePath(), 2, "info");
    }

    /**
     * Starts Envoy on the bootstrap {@code yaml} and waits until its admin interface listens.
     *
     * @param log where its output goes; the bootstrap file is written beside it
     * @param concurrency worker threads, {@code >= 1}
     * @param logLevel e.g. {@code info} or {@code warning}
     */
    public static Envoy start(String yaml, Path log, int concurrency, String logLevel) throws IOException {
        requireNonNull(yaml, "yaml");
        requireNonNull(log, "log");
        Files.createDirectories(log.toAbsolutePath().getParent());
        Path bootstrap = log.resolveSibling(log.getFileName() + ".bootstrap.yaml");
        Files.writeString(bootstrap, yaml);
        try {
            return new Envoy(EnvoyProcess.start(binary(), bootstrap, log, concurrency, logLevel));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting Envoy", e);
        }
    }

    /** The Envoy binary the tests run, installing the pinned version when there is none. */
    public static Path binary() throws IOException {
        try {
            return EnvoyBinary.locate(line -> System.err.println("envoy: " + line));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while installing Envoy", e);
        }
    }

    public int adminPort() {
        return process.adminPort();
    }

    /** GETs a path on Envoy's admin interface, e.g. {@code /config_dump}, and returns the body. */
    public String admin(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + process.adminAddress() + path))
                .timeout(Duration.ofSeconds(5)).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The value of one counter or gauge, e.g. {@code cluster_manager.cds.update_rejected}, or -1 when absent. */
    public long stat(String name) throws IOException, InterruptedException {
        return stats("^" + name.replace(".", "\\.") + "$").getOrDefault(name, -1L);
    }

    /** The counters and gauges whose names match the regular expression {@code filter}, by name; histograms left out. */
    public Map<String, Long> stats(String filter) throws IOException, InterruptedException {
        Map<String, Long> stats = new TreeMap<>();
        for (String line : admin("/stats?filter=" + URLEncoder.encode(filter, StandardCharsets.UTF_8)).split("\n")) {
            int colon = line.lastIndexOf(": ");
            String value = colon > 0 ? line.substring(colon + 2).trim() : "";
            if (value.matches("-?[0-9]+")) {
                stats.put(line.substring(0, colon), Long.parseLong(value));
            }
        }
        return stats;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return process.log();
    }

    /** The last {@code lines} lines of the log, for failure messages. */
    public String logTail(int lines) {
        return process.logTail(lines);
    }

    /** SIGTERM, then SIGKILL after 10 s. */
    @Override
    public void close() {
        process.close();
    }
}
