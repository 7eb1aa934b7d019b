package io.aimesh.bench.routing;

import io.aimesh.bench.e2e.EnvoyProxy;
import io.aimesh.filter.AiFilter;
import io.aimesh.filter.AiFilterOptions;
import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One balancing mode's path to the shared fleet: its own control plane (the pool's {@code balancing.mode}
 * is the only difference between the stacks' policies), its own ai-filter and its own Envoy. Every
 * mode has the filter in the path, so they pay the same proxy costs and differ only in who picks
 * the endpoint. Not thread-safe.
 */
final class RoutingStack implements AutoCloseable {
    static final String MODEL = "routing-model";

    private final String mode;
    private final ControlPlane controlPlane;
    private final AiFilter filter;
    private final EnvoyProxy envoy;
    private final URI target;

    private RoutingStack(String mode, ControlPlane controlPlane, AiFilter filter, EnvoyProxy envoy, URI target) {
        this.mode = mode;
        this.controlPlane = controlPlane;
        this.filter = filter;
        this.envoy = envoy;
        this.target = target;
    }

    /** Starts the stack for {@code mode} (a policy balancing mode) in {@code dir} and waits until it answers. */
    static RoutingStack start(String mode, List<ModelSimServer> fleet, Duration metricsInterval, Path dir)
            throws IOException, InterruptedException {
        Path policies = Files.createDirectories(dir.resolve("policies"));
        int filterPort = freePort();
        int listenerPort = freePort();
        Files.writeString(policies.resolve("policies.yaml"), policies(mode, fleet, metricsInterval, filterPort));
        ControlPlane controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(policies)
                .withXds("127.0.0.1", 0).withAdmin("127.0.0.1", 0).withListener("127.0.0.1", listenerPort));
        AiFilter filter = null;
        EnvoyProxy envoy = null;
        try {
            filter = AiFilter.start(new AiFilterOptions("127.0.0.1:" + controlPlane.xdsPort(), "routing-filter-" + mode,
                    "127.0.0.1", filterPort, "127.0.0.1", 0));
            envoy = EnvoyProxy.start(dir.resolve("envoy"), "routing-" + mode, controlPlane.xdsPort(), 2);
            RoutingStack stack = new RoutingStack(mode, controlPlane, filter, envoy,
                    URI.create("http://127.0.0.1:" + listenerPort + "/v1/chat/completions"));
            stack.awaitAnswer();
            return stack;
        } catch (IOException | RuntimeException | InterruptedException e) {
            if (envoy != null) {
                envoy.close();
            }
            if (filter != null) {
                filter.close();
            }
            controlPlane.close();
            throw e;
        }
    }

    static String policies(String mode, List<ModelSimServer> fleet, Duration metricsInterval, int filterPort) {
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
                  balancing: {mode: %s, metricsInterval: %dms}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: routing}
                spec:
                  model: %s
                  versions: [{name: v1, pool: fleet, weight: 1}]
                  tokenizer: approximate
                """.formatted(filterPort, fleet.stream().map(sim -> "\"" + sim.instanceName() + "\"")
                .collect(Collectors.joining(", ")), mode, metricsInterval.toMillis(), MODEL);
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
        EnvoyProxy.awaitOk(request, envoy, mode);
    }

    @Override
    public void close() throws IOException {
        envoy.close();
        filter.close();
        controlPlane.close();
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
