package io.aimesh.bench.e2e;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The ai-filter in a JVM of its own, as it is deployed: its allocation, GC and JIT are its own
 * and are not the load generator's, and its CPU time can be read per request. Runs
 * {@link FilterMain} on this JVM's classpath. Not thread-safe.
 */
final class FilterProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final int grpcPort;
    private final Path log;

    private FilterProcess(Process process, int grpcPort, Path log) {
        this.process = process;
        this.grpcPort = grpcPort;
        this.log = log;
    }

    /**
     * Starts the filter and waits until it has its first config ({@code /readyz} answers 200).
     *
     * @param jvmArgs flags for the filter's JVM, e.g. a heap size or {@code -XX:StartFlightRecording=...}
     */
    static FilterProcess start(Path log, int xdsPort, int grpcPort, int adminPort, List<String> jvmArgs)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), FilterMain.class.getName(),
                "127.0.0.1:" + xdsPort, Integer.toString(grpcPort), Integer.toString(adminPort)));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        FilterProcess filter = new FilterProcess(process, grpcPort, log);
        try {
            filter.awaitReady(adminPort, Duration.ofSeconds(60));
            return filter;
        } catch (IOException | RuntimeException | InterruptedException e) {
            filter.close();
            throw e;
        }
    }

    int grpcPort() {
        return grpcPort;
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    private void awaitReady(int adminPort, Duration timeout) throws IOException, InterruptedException {
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz"))
                .timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the ai-filter exited with " + process.exitValue() + ":\n"
                        + BenchMesh.tail(log, 30));
            }
            try {
                if (HTTP.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (ConnectException e) {
                // not listening yet
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        throw new IllegalStateException("the ai-filter had no config after " + timeout + ":\n" + BenchMesh.tail(log, 30));
    }

    /** SIGTERM (the filter closes its servers), then SIGKILL after 10 s. */
    @Override
    public void close() {
        BenchMesh.stop(process);
    }
}
