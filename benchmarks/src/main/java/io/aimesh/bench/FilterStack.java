package io.aimesh.bench;

import io.aimesh.filter.AiFilter;
import io.aimesh.filter.AiFilterOptions;
import io.aimesh.testing.Envoy;
import io.aimesh.testing.Ports;
import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import io.aimesh.xds.EnvoyBootstrap;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * A benchmark's data path on one policy directory: the control plane, the ai-filter and, when
 * asked for, a real Envoy, each started in turn and closed in reverse. Not thread-safe.
 */
public final class FilterStack implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    private final ControlPlane controlPlane;
    private final AiFilter filter;
    private final Envoy envoy;
    private final int filterPort;
    /** Held until Envoy starts, or for the stack's life without one. */
    private final Ports.Held listenerPort;

    private FilterStack(ControlPlane controlPlane, AiFilter filter, Envoy envoy, int filterPort, Ports.Held listenerPort) {
        this.controlPlane = controlPlane;
        this.filter = filter;
        this.envoy = envoy;
        this.filterPort = filterPort;
        this.listenerPort = listenerPort;
    }

    /**
     * Starts the stack in {@code dir}, waiting until the filter has its first config.
     *
     * @param policies the policy YAML, given the port the filter's ext_proc server will listen on
     * @param withEnvoy whether to start an Envoy too (its listener: {@link #uri})
     */
    public static FilterStack start(String name, Path dir, IntFunction<String> policies, boolean withEnvoy)
            throws IOException, InterruptedException {
        Path policyDir = Files.createDirectories(dir.resolve("policies"));
        Ports.Held filterPort = Ports.hold();
        Ports.Held listenerPort = Ports.hold();
        Files.writeString(policyDir.resolve("policies.yaml"), policies.apply(filterPort.port()));
        ControlPlane controlPlane = null;
        AiFilter filter = null;
        try {
            controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(policyDir)
                    .withXds("127.0.0.1", 0).withAdmin("127.0.0.1", 0).withListener("127.0.0.1", listenerPort.port()));
            filterPort.release();
            filter = AiFilter.start(new AiFilterOptions("127.0.0.1:" + controlPlane.xdsPort(), name + "-filter",
                    "127.0.0.1", filterPort.port(), "127.0.0.1", 0));
            for (int i = 0; i < 400 && filter.configVersion() == null; i++) {
                Thread.sleep(25); // a benchmark's setup, not a test: wait for the first config
            }
            Envoy envoy = null;
            if (withEnvoy) {
                listenerPort.release();
                envoy = startEnvoy(dir.resolve("envoy"), name, controlPlane.xdsPort(), 2);
            }
            return new FilterStack(controlPlane, filter, envoy, filterPort.port(), listenerPort);
        } catch (IOException | RuntimeException | InterruptedException e) {
            if (filter != null) {
                filter.close();
            }
            if (controlPlane != null) {
                controlPlane.close();
            }
            filterPort.release();
            listenerPort.release();
            throw e;
        }
    }

    /**
     * Starts a benchmark's Envoy against the control plane at {@code 127.0.0.1:xdsPort} (SotW ADS),
     * logging warnings to {@code dir/envoy.log}; its listener comes later, from xDS.
     */
    public static Envoy startEnvoy(Path dir, String nodeId, int xdsPort, int concurrency) throws IOException {
        return Envoy.start(new EnvoyBootstrap(nodeId, "aimesh-bench", "127.0.0.1", xdsPort, "127.0.0.1", 0, false).yaml(),
                dir.resolve("envoy.log"), concurrency, "warn");
    }

    /**
     * Sends {@code request} until it is answered 200 (Envoy has its listener, routes and clusters),
     * for at most 30 s; fails early if {@code envoy} (may be null: a path without Envoy) exits.
     */
    public static void awaitOk(HttpRequest request, Envoy envoy, String name) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (envoy != null && !envoy.isAlive()) {
                throw new IllegalStateException(name + ": Envoy exited:\n" + envoy.logTail(30));
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

    /** {@code path} on Envoy's listener. */
    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + listenerPort.port() + path);
    }

    /** The Envoy, or {@code null} when started without one. */
    public Envoy envoy() {
        return envoy;
    }

    /** The ai-filter's gRPC port (ext_proc and the rate limit service). */
    public int filterPort() {
        return filterPort;
    }

    /** The {@code sha256:} digest form a Tenant's API key takes in a policy, without the prefix. */
    public static String apiKeyDigest(String key) {
        return io.aimesh.filter.api.Sha256.hex(key);
    }

    /** Replaces what follows {@code <!-- results -->} in the benchmark's document by {@code markdown}. */
    public static void writeResults(Path document, String markdown) throws IOException {
        Files.writeString(document, Files.readString(document).replaceFirst("(?s)<!-- results -->.*", "<!-- results -->\n"
                + java.util.regex.Matcher.quoteReplacement(markdown)));
    }

    @Override
    public void close() throws IOException {
        if (envoy != null) {
            envoy.close();
        }
        filter.close();
        controlPlane.close();
        listenerPort.release();
    }
}
