package io.aimesh.bench.routing;

import io.aimesh.bench.FilterStack;
import io.aimesh.modelsim.ModelSimServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One balancing mode's path to the shared fleet: its own control plane (the pool's {@code balancing.mode}
 * is the only difference between the stacks' policies), its own ai-filter and its own Envoy. Every
 * mode has the filter in the path, so they pay the same proxy costs and differ only in who picks
 * the endpoint. Not thread-safe.
 */
final class RoutingStack implements AutoCloseable {
    static final String MODEL = "routing-model";

    private final String mode;
    private final FilterStack stack;
    private final URI target;

    private RoutingStack(String mode, FilterStack stack) {
        this.mode = mode;
        this.stack = stack;
        this.target = stack.uri("/v1/chat/completions");
    }

    /** Starts the stack for {@code mode} (a policy balancing mode) in {@code dir} and waits until it answers. */
    static RoutingStack start(String mode, List<ModelSimServer> fleet, Duration metricsInterval, List<String> adapters,
            Path dir) throws IOException, InterruptedException {
        FilterStack stack = FilterStack.start("routing-" + mode, dir,
                filterPort -> policies(mode, fleet, metricsInterval, adapters, filterPort), true);
        try {
            RoutingStack routing = new RoutingStack(mode, stack);
            routing.awaitAnswer();
            return routing;
        } catch (IOException | RuntimeException | InterruptedException e) {
            stack.close();
            throw e;
        }
    }

    /**
     * The stack's policies: {@code picker-no-affinity} is the picker with its prefix and LoRA weights at
     * 0; each adapter gets a route of its own to the same pool, as a deployment serving adapters has.
     */
    static String policies(String mode, List<ModelSimServer> fleet, Duration metricsInterval, List<String> adapters,
            int filterPort) {
        String balancing = mode.equals("picker-no-affinity")
                ? "{mode: picker, metricsInterval: %dms, scorers: {prefixAffinity: 0, loraAffinity: 0}}"
                        .formatted(metricsInterval.toMillis())
                : "{mode: %s, metricsInterval: %dms}".formatted(mode, metricsInterval.toMillis());
        StringBuilder routes = new StringBuilder();
        for (String model : Stream.concat(Stream.of(MODEL), adapters.stream()).toList()) {
            routes.append("""
                    ---
                    apiVersion: aimesh.io/v1alpha1
                    kind: ModelRoute
                    metadata: {name: %s}
                    spec:
                      model: %s
                      versions: [{name: v1, pool: fleet, weight: 1}]
                      tokenizer: approximate
                    """.formatted(model, model));
        }
        return """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  filter: {address: "127.0.0.1:%d", failureMode: closed, messageTimeout: 2s}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: fleet}
                spec:
                  endpoints: [%s]
                  balancing: %s
                """.formatted(filterPort, fleet.stream().map(sim -> "\"" + sim.instanceName() + "\"")
                .collect(Collectors.joining(", ")), balancing) + routes;
    }

    String mode() {
        return mode;
    }

    URI target() {
        return target;
    }

    private void awaitAnswer() throws IOException, InterruptedException {
        String body = "{\"model\":\"" + MODEL + "\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpRequest request = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(5))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        FilterStack.awaitOk(request, stack.envoy(), mode);
    }

    @Override
    public void close() throws IOException {
        stack.close();
    }
}
