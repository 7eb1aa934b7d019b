package io.aimesh.xds;

import static org.awaitility.Awaitility.await;

import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real mesh for integration tests: four model-sim instances (two per version of one
 * model), a policy directory naming them, the control plane and one Envoy.
 */
final class Mesh implements AutoCloseable {
    static final String MODEL = "llama-3-8b-instruct";

    final Path policies;
    final int listenerPort;
    final List<ModelSimServer> sims = new ArrayList<>();
    final boolean delta;
    ControlPlane controlPlane;
    EnvoyProcess envoy;
    private int xdsPort;

    private Mesh(boolean delta) throws IOException {
        this.delta = delta;
        this.policies = Files.createTempDirectory("aimesh-policies-");
        this.listenerPort = freePort();
    }

    static Mesh start(boolean delta, int v1Weight, int v2Weight) throws IOException {
        Mesh mesh = new Mesh(delta);
        try {
            for (String version : List.of("v1", "v1", "v2", "v2")) {
                mesh.sims.add(ModelSimServer.start(ModelSimConfig.builder().port(0).model(MODEL).version(version)
                        .speed(20).maxSeqs(64).seed(mesh.sims.size() + 1).build()));
            }
            mesh.writePolicy("pools.yaml", mesh.pools());
            mesh.writePolicy("routes.yaml", route(v1Weight, v2Weight));
            mesh.startControlPlane(0);
            mesh.envoy = EnvoyProcess.start("test-" + (delta ? "delta" : "sotw") + "-" + mesh.listenerPort,
                    mesh.xdsPort, delta);
            Traffic probe = mesh.traffic();
            await().atMost(Duration.ofSeconds(20)).until(() -> probe.once(Map.of()) != null);
            return mesh;
        } catch (IOException | RuntimeException e) {
            mesh.close();
            throw e;
        }
    }

    void startControlPlane(int port) throws IOException {
        ControlPlaneOptions options = ControlPlaneOptions.defaults(policies)
                .withXds("127.0.0.1", port)
                .withAdmin("127.0.0.1", 0)
                .withListener("127.0.0.1", listenerPort);
        controlPlane = ControlPlane.start(options);
        xdsPort = controlPlane.xdsPort();
    }

    void restartControlPlane() throws IOException {
        controlPlane.close();
        startControlPlane(xdsPort);
    }

    Traffic traffic() {
        return new Traffic(listenerPort, MODEL);
    }

    /** Writes a policy file atomically, as a careful editor or a ConfigMap update does. */
    void writePolicy(String name, String yaml) throws IOException {
        Path tmp = Files.createTempFile(policies.getParent(), ".policy-", ".tmp");
        Files.writeString(tmp, yaml);
        Files.move(tmp, policies.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    String pools() {
        return pool("llama-v1", sims.get(0), sims.get(1)) + "---\n" + pool("llama-v2", sims.get(2), sims.get(3));
    }

    private static String pool(String name, ModelSimServer a, ModelSimServer b) {
        return """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: %s}
                spec:
                  endpoints: ["127.0.0.1:%d", "127.0.0.1:%d"]
                """.formatted(name, a.port(), b.port());
    }

    static String route(int v1Weight, int v2Weight) {
        return """
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: llama}
                spec:
                  model: %s
                  versions:
                    - {name: v1, pool: llama-v1, weight: %d}
                    - {name: v2, pool: llama-v2, weight: %d}
                  overrides:
                    - {header: x-aimesh-version, value: v1, version: v1}
                    - {header: x-aimesh-version, value: v2, version: v2}
                """.formatted(MODEL, v1Weight, v2Weight);
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() throws IOException {
        if (envoy != null) {
            envoy.close();
        }
        if (controlPlane != null) {
            controlPlane.close();
        }
        for (ModelSimServer sim : sims) {
            sim.close();
        }
    }
}
