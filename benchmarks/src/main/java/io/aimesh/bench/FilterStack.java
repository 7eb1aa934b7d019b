package io.aimesh.bench;

import io.aimesh.bench.e2e.EnvoyProxy;
import io.aimesh.filter.AiFilter;
import io.aimesh.filter.AiFilterOptions;
import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.IntFunction;

/**
 * A benchmark's data path on one policy directory: the control plane, the ai-filter and, when
 * asked for, a real Envoy, each started in turn and closed in reverse. Not thread-safe.
 */
public final class FilterStack implements AutoCloseable {
    private final ControlPlane controlPlane;
    private final AiFilter filter;
    private final EnvoyProxy envoy;
    private final int filterPort;
    private final int listenerPort;

    private FilterStack(ControlPlane controlPlane, AiFilter filter, EnvoyProxy envoy, int filterPort, int listenerPort) {
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
        int filterPort = freePort();
        int listenerPort = freePort();
        Files.writeString(policyDir.resolve("policies.yaml"), policies.apply(filterPort));
        ControlPlane controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(policyDir)
                .withXds("127.0.0.1", 0).withAdmin("127.0.0.1", 0).withListener("127.0.0.1", listenerPort));
        AiFilter filter = null;
        try {
            filter = AiFilter.start(new AiFilterOptions("127.0.0.1:" + controlPlane.xdsPort(), name + "-filter",
                    "127.0.0.1", filterPort, "127.0.0.1", 0));
            for (int i = 0; i < 400 && filter.configVersion() == null; i++) {
                Thread.sleep(25); // a benchmark's setup, not a test: wait for the first config
            }
            EnvoyProxy envoy = withEnvoy ? EnvoyProxy.start(dir.resolve("envoy"), name, controlPlane.xdsPort(), 2) : null;
            return new FilterStack(controlPlane, filter, envoy, filterPort, listenerPort);
        } catch (IOException | RuntimeException | InterruptedException e) {
            if (filter != null) {
                filter.close();
            }
            controlPlane.close();
            throw e;
        }
    }

    /** {@code path} on Envoy's listener. */
    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + listenerPort + path);
    }

    /** The Envoy, or {@code null} when started without one. */
    public EnvoyProxy envoy() {
        return envoy;
    }

    /** The ai-filter's gRPC port (ext_proc and the rate limit service). */
    public int filterPort() {
        return filterPort;
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** The {@code sha256:} digest form a Tenant's API key takes in a policy, without the prefix. */
    public static String apiKeyDigest(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
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
    }
}
