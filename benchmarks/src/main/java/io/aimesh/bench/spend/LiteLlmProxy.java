package io.aimesh.bench.spend;

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
 * LiteLLM's proxy ({@code litellm --config}) as the peer, in a process of its own: the benchmark's
 * model-sims as deployments of one model, at the benchmark's prices, under a provider budget that
 * its router enforces with Redis and no database (its keys, teams and organisations need
 * PostgreSQL through Prisma, whose query engine it downloads from outside the package registries).
 * One worker, as one ai-filter replica.
 */
final class LiteLlmProxy implements AutoCloseable {
    static final String MASTER_KEY = "sk-bench-master";
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
     * Starts the proxy and waits until it answers its liveness probe.
     *
     * @param budget the provider budget, in the currency's units (e.g. "2.00"), per day
     */
    static LiteLlmProxy start(Path executable, Path dir, List<Integer> simPorts, Prices prices, String budget, int redisPort)
            throws IOException, InterruptedException {
        Files.createDirectories(dir);
        StringBuilder models = new StringBuilder();
        for (int simPort : simPorts) {
            models.append("""
                      - model_name: %s
                        litellm_params:
                          model: openai/%s
                          api_base: http://127.0.0.1:%d/v1
                          api_key: none
                          input_cost_per_token: %s
                          output_cost_per_token: %s
                    """.formatted(SpendRace.MODEL, SpendRace.MODEL, simPort, prices.inputPerToken(), prices.outputPerToken()));
        }
        Path config = dir.resolve("litellm.yaml");
        Files.writeString(config, "model_list:\n" + models + """
                router_settings:
                  redis_host: 127.0.0.1
                  redis_port: %d
                  provider_budget_config:
                    openai: {budget_limit: %s, time_period: 1d}
                general_settings:
                  master_key: %s
                litellm_settings:
                  telemetry: false
                """.formatted(redisPort, budget, MASTER_KEY));
        Ports.Held held = Ports.hold();
        held.release();
        Path log = dir.resolve("litellm.log");
        ProcessBuilder builder = new ProcessBuilder(executable.toString(), "--config", config.toString(), "--host", "127.0.0.1",
                "--port", Integer.toString(held.port()), "--num_workers", "1")
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

    URI chatUri() {
        return URI.create("http://127.0.0.1:" + port + "/v1/chat/completions");
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        ChildProcess.stop(process);
    }
}
