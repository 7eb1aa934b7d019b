package io.aimesh.cli;

import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

// No mixinStandardHelpOptions: its -V/--version would take the --version option the issue names.
@Command(name = "model-sim",
        description = "Run a simulated OpenAI-compatible GPU model server (continuous batching, KV cache, vLLM metrics).")
final class ModelSimCommand implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--port", required = true, description = "Port to listen on (0 picks a free one).")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--model", required = true, description = "The model name served.")
    String model;

    @Option(names = "--version", required = true, description = "The model version served (x-model-sim-version).")
    String version;

    @Option(names = "--speed", defaultValue = "1.0", description = "Relative GPU speed (default: ${DEFAULT-VALUE}).")
    double speed;

    @Option(names = "--max-seqs", defaultValue = "16", description = "Sequences batched at once (default: ${DEFAULT-VALUE}).")
    int maxSeqs;

    @Option(names = "--kv-tokens", defaultValue = "16384", description = "KV-cache capacity in tokens (default: ${DEFAULT-VALUE}).")
    int kvTokens;

    @Option(names = "--block-size", defaultValue = "16", description = "Tokens per KV-cache block (default: ${DEFAULT-VALUE}).")
    int blockSize;

    @Option(names = "--no-enable-prefix-caching", negatable = false,
            description = "Prefill every prompt whole: no KV blocks shared between prompts with a common prefix.")
    boolean noPrefixCaching;

    @Option(names = "--lora-modules", split = ",", paramLabel = "NAME",
            description = "LoRA adapters served beside the model: a request naming one runs with it (comma-separated).")
    List<String> loraModules;

    @Option(names = "--max-loras", defaultValue = "1", description = "Adapters in GPU slots at once (default: ${DEFAULT-VALUE}).")
    int maxLoras;

    @Option(names = "--lora-load-ms", defaultValue = "20",
            description = "Time loading an adapter into a slot adds to its step (default: ${DEFAULT-VALUE}).")
    double loraLoadMillis;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--fail-rate", defaultValue = "0", description = "Share of requests failed with 500, 0..1 (default: ${DEFAULT-VALUE}).")
    double failRate;

    @Option(names = "--extra-latency-ms", defaultValue = "0", description = "Latency added to every request (default: ${DEFAULT-VALUE}).")
    int extraLatencyMs;

    @Option(names = "--instance", description = "Instance name in x-model-sim-instance (default: HOST:PORT).")
    String instance;

    @Override
    public Integer call() throws Exception {
        ModelSimConfig config = ModelSimConfig.builder().host(host).port(port).model(model).version(version).speed(speed)
                .maxSeqs(maxSeqs).kvTokens(kvTokens).seed(seed).failRate(failRate).extraLatencyMs(extraLatencyMs)
                .instanceName(instance).blockSize(blockSize).prefixCaching(!noPrefixCaching)
                .loraAdapters(loraModules == null ? List.of() : loraModules).maxLoras(maxLoras).loraLoadMillis(loraLoadMillis).build();
        Shutdown shutdown = new Shutdown();
        try (ModelSimServer server = ModelSimServer.start(config)) {
            System.out.println("model-sim " + model + " " + version + " on http://" + host + ":" + server.port()
                    + " as " + server.instanceName());
            shutdown.awaitRequest();
        } finally {
            shutdown.done();
        }
        return 0;
    }
}
