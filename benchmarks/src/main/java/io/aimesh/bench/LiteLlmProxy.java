package io.aimesh.bench;

import io.aimesh.internal.ChildProcess;
import io.aimesh.testing.Ports;
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
 * LiteLLM's proxy ({@code litellm --config}) as a peer, in a process of its own (its workers are
 * child processes of it): started on a config the benchmark writes, waited for until it answers
 * its liveness probe. No database: its keys, teams and organisations need PostgreSQL through
 * Prisma, whose query engine it downloads from outside the package registries.
 */
public final class LiteLlmProxy implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final int port;
    private final Path log;

    private LiteLlmProxy(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /**
     * A {@code model_list} entry: {@code model} served by the OpenAI-compatible server at
     * {@code 127.0.0.1:port}, with {@code extra} {@code litellm_params} lines (e.g. prices), each
     * {@code key: value}.
     */
    public static String deployment(String model, int port, List<String> extra) {
        StringBuilder entry = new StringBuilder("""
                  - model_name: %s
                    litellm_params:
                      model: openai/%s
                      api_base: http://127.0.0.1:%d/v1
                      api_key: none
                """.formatted(model, model, port));
        extra.forEach(line -> entry.append("      ").append(line).append('\n'));
        return entry.toString();
    }

    /**
     * Starts the proxy on {@code config} (written to {@code dir}) with {@code workers} worker
     * processes, and waits until it answers its liveness probe.
     */
    public static LiteLlmProxy start(Path executable, Path dir, String config, int workers) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path file = dir.resolve("litellm.yaml");
        Files.writeString(file, config);
        Ports.Held held = Ports.hold();
        held.release();
        Path log = dir.resolve("litellm.log");
        ProcessBuilder builder = new ProcessBuilder(executable.toString(), "--config", file.toString(), "--host", "127.0.0.1",
                "--port", Integer.toString(held.port()), "--num_workers", Integer.toString(workers))
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("LITELLM_LOG", "ERROR");
        builder.environment().put("LITELLM_LOCAL_MODEL_COST_MAP", "True"); // no fetch of the price list from the internet
        LiteLlmProxy proxy = new LiteLlmProxy(builder.start(), held.port(), log);
        try {
            proxy.awaitLive();
            return proxy;
        } catch (IOException | RuntimeException | InterruptedException e) {
            proxy.close();
            throw e;
        }
    }

    private void awaitLive() throws IOException, InterruptedException {
        HttpRequest probe = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/liveliness"))
                .timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("litellm exited with " + process.exitValue() + "; the end of " + log + ":\n"
                        + ChildProcess.tail(log, 30));
            }
            try {
                if (HTTP.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250); // polling a child process's start, not a test
        }
        throw new IOException("litellm did not answer in 120 s; the end of " + log + ":\n" + ChildProcess.tail(log, 30));
    }

    public URI chatUri() {
        return URI.create("http://127.0.0.1:" + port + "/v1/chat/completions");
    }

    public long pid() {
        return process.pid();
    }

    /** The CPU time the proxy and its workers have used so far, in nanoseconds. */
    public long cpuNanos() {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(process.toHandle()), process.toHandle().descendants())
                .mapToLong(p -> p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L)).sum();
    }

    public Path log() {
        return log;
    }

    @Override
    public void close() {
        ChildProcess.stop(process);
    }
}
