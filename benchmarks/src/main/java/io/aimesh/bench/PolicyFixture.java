package io.aimesh.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A policy directory shaped like a small production mesh: {@value #MODELS} models, each
 * routed across two versions, each version served by an InferencePool of
 * {@value #ENDPOINTS_PER_POOL} endpoints (made-up ports on 127.0.0.1; nothing connects to them).
 * One file per route, so an edit touches one file, as a canary rollout does.
 */
final class PolicyFixture implements AutoCloseable {
    static final int MODELS = 4;
    static final int ENDPOINTS_PER_POOL = 4;
    private static final List<String> MODEL_NAMES =
            List.of("llama-3-8b-instruct", "mistral-7b-instruct", "qwen2-7b-instruct", "gemma-2-9b-it");

    private final Path root;
    private final Path policies;

    private PolicyFixture(Path root) {
        this.root = root;
        this.policies = root.resolve("policies");
    }

    /** Writes the fixture into a new temporary directory. */
    static PolicyFixture create() throws IOException {
        PolicyFixture fixture = new PolicyFixture(Files.createTempDirectory("aimesh-fanout-"));
        try {
            Files.createDirectory(fixture.policies);
            fixture.write("pools.yaml", pools());
            for (int model = 0; model < MODELS; model++) {
                fixture.write(routeFile(model), route(model, 0));
            }
            return fixture;
        } catch (IOException | RuntimeException e) {
            fixture.close();
            throw e;
        }
    }

    Path directory() {
        return policies;
    }

    /**
     * Edit number {@code change} (from 0): shifts one route's canary weight to a value that
     * route has not had just before, so the edit always changes the route table.
     *
     * @return the {@link System#nanoTime()} right before the new file replaced the old one
     */
    long shiftWeight(int change) throws IOException {
        return write(routeFile(change % MODELS), route(change % MODELS, 1 + change % 50));
    }

    /**
     * Replaces a file atomically, as a careful editor or a Kubernetes ConfigMap update does.
     * Returns the time taken just before the rename: taken after it, a GC pause or preemption
     * in between would make the edit look later, and the latency shorter, than it was.
     */
    private long write(String name, String yaml) throws IOException {
        Path tmp = Files.createTempFile(root, ".policy-", ".tmp"); // outside the watched directory
        Files.writeString(tmp, yaml);
        long before = System.nanoTime();
        Files.move(tmp, policies.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return before;
    }

    private static String routeFile(int model) {
        return "route-" + model + ".yaml";
    }

    private static String pools() {
        StringBuilder yaml = new StringBuilder();
        for (int pool = 0; pool < 2 * MODELS; pool++) {
            StringBuilder endpoints = new StringBuilder();
            for (int e = 0; e < ENDPOINTS_PER_POOL; e++) {
                endpoints.append(e == 0 ? "" : ", ").append("\"127.0.0.1:").append(21000 + 10 * pool + e).append('"');
            }
            yaml.append(pool == 0 ? "" : "---\n").append("""
                    apiVersion: aimesh.io/v1alpha1
                    kind: InferencePool
                    metadata: {name: %s}
                    spec:
                      endpoints: [%s]
                      connectTimeout: 1s
                    """.formatted(poolName(pool), endpoints));
        }
        return yaml.toString();
    }

    private static String route(int model, int canaryWeight) {
        return """
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: route-%d}
                spec:
                  model: %s
                  versions:
                    - {name: stable, pool: %s, weight: %d}
                    - {name: canary, pool: %s, weight: %d}
                  overrides:
                    - {header: x-aimesh-version, value: canary, version: canary}
                  timeout: 120s
                """.formatted(model, MODEL_NAMES.get(model), poolName(2 * model), 100 - canaryWeight,
                poolName(2 * model + 1), canaryWeight);
    }

    private static String poolName(int pool) {
        return MODEL_NAMES.get(pool / 2) + (pool % 2 == 0 ? "-stable" : "-canary");
    }

    /** Deletes the directory and everything in it. */
    @Override
    public void close() throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
