package io.aimesh.bench.e2e;

import io.aimesh.internal.ChildProcess;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
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
 * An ext_proc server in a JVM of its own, as the ai-filter is deployed: its allocation, GC and JIT
 * are its own and are not the load generator's, and its CPU time can be read per request. Runs
 * {@link FilterMain} (the ai-filter) or {@link NoopExtProcMain} on this JVM's classpath. Not
 * thread-safe.
 */
final class ExtProcServerProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final int grpcPort;
    private final Path log;

    private ExtProcServerProcess(Process process, int grpcPort, Path log) {
        this.process = process;
        this.grpcPort = grpcPort;
        this.log = log;
    }

    /**
     * Starts the ai-filter and waits until it has its first config ({@code /readyz} answers 200).
     *
     * @param jvmArgs flags for the filter's JVM, e.g. a heap size or {@code -XX:StartFlightRecording=...}
     */
    static ExtProcServerProcess filter(Path log, int xdsPort, int grpcPort, int adminPort, List<String> jvmArgs)
            throws IOException, InterruptedException {
        ExtProcServerProcess filter = start(log, jvmArgs, grpcPort, FilterMain.class,
                "127.0.0.1:" + xdsPort, Integer.toString(grpcPort), Integer.toString(adminPort));
        try {
            filter.awaitReady(URI.create("http://127.0.0.1:" + adminPort + "/readyz"), Duration.ofSeconds(60));
            return filter;
        } catch (IOException | RuntimeException | InterruptedException e) {
            filter.close();
            throw e;
        }
    }

    /** Starts the no-op ext_proc server and waits until its port accepts connections. */
    static ExtProcServerProcess noop(Path log, int grpcPort, List<String> jvmArgs) throws IOException, InterruptedException {
        ExtProcServerProcess noop = start(log, jvmArgs, grpcPort, NoopExtProcMain.class, Integer.toString(grpcPort));
        try {
            noop.awaitReady(null, Duration.ofSeconds(60));
            return noop;
        } catch (IOException | RuntimeException | InterruptedException e) {
            noop.close();
            throw e;
        }
    }

    private static ExtProcServerProcess start(Path log, List<String> jvmArgs, int grpcPort, Class<?> main, String... args)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new ExtProcServerProcess(process, grpcPort, log);
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

    /** Waits until {@code readyz} answers 200, or with {@code readyz} null until the gRPC port accepts a connection. */
    private void awaitReady(URI readyz, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the ext_proc server exited with " + process.exitValue() + ":\n"
                        + ChildProcess.tail(log, 30));
            }
            try {
                if (readyz == null) {
                    new Socket("127.0.0.1", grpcPort).close();
                    return;
                }
                HttpRequest ready = HttpRequest.newBuilder(readyz).timeout(Duration.ofSeconds(5)).build();
                if (HTTP.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (ConnectException e) {
                // not listening yet
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        throw new IllegalStateException("the ext_proc server was not ready after " + timeout + ":\n" + ChildProcess.tail(log, 30));
    }

    /** SIGTERM (the server closes), then SIGKILL after 10 s. */
    @Override
    public void close() {
        ChildProcess.stop(process);
    }
}
