package io.aimesh.testing;

import static java.util.Objects.requireNonNull;

import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Model-sims for a picker pool, {@value #POOL}, serving {@value #MODEL}: two fast ones and a slow one
 * (a tenth of the speed, one sequence at a time, so its queue shows in its metrics), and an
 * {@linkplain #outsider() outsider} serving the same model outside the pool, the target of spoofed
 * destination headers. {@link #policies()} names them; add it to a {@link MeshBuilder#extraPolicies
 * mesh's policies}. Not thread-safe.
 */
public final class PickerFleet implements AutoCloseable {
    public static final String MODEL = "fleet-model";
    public static final String POOL = "fleet";

    private final List<ModelSimServer> sims = new ArrayList<>();
    private ModelSimServer outsider;

    private PickerFleet() {
    }

    /** Starts the fleet's model-sims on free ports, seeded from {@code seed} (each its own). */
    public static PickerFleet start(long seed) throws IOException {
        PickerFleet fleet = new PickerFleet();
        try {
            for (int i = 0; i < 3; i++) {
                boolean slow = i == 2;
                fleet.sims.add(ModelSimServer.start(ModelSimConfig.builder().port(0).model(MODEL).version("v1")
                        .speed(slow ? 2 : 20).maxSeqs(slow ? 1 : 64).kvTokens(1 << 20).seed(seed + i).build()));
            }
            fleet.outsider = ModelSimServer.start(ModelSimConfig.builder().port(0).model(MODEL).version("outside").speed(20)
                    .maxSeqs(64).kvTokens(1 << 20).seed(seed + 88).build());
            return fleet;
        } catch (IOException | RuntimeException e) {
            fleet.close();
            throw e;
        }
    }

    /**
     * The pool (scraped every 50 ms, at most 3 waiting per endpoint, no prefix affinity) and the
     * model's route to it.
     */
    public String policies() {
        return """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: %s}
                spec:
                  endpoints: ["%s", "%s", "%s"]
                  balancing: {mode: picker, metricsInterval: 50ms, maxQueue: 3, scorers: {prefixAffinity: 0}}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: %1$s}
                spec:
                  model: %5$s
                  versions: [{name: v1, pool: %1$s, weight: 1}]
                  tokenizer: approximate
                """.formatted(POOL, sims.get(0).instanceName(), sims.get(1).instanceName(), sims.get(2).instanceName(), MODEL);
    }

    /** The pool's model-sims, the slow one last; tests may replace one (the fleet closes what the list holds). */
    public List<ModelSimServer> sims() {
        return sims;
    }

    /** The slow member. */
    public ModelSimServer slow() {
        return sims.get(2);
    }

    /** Whether {@code instance} ({@code ip:port}) is a member of the pool. */
    public boolean isMember(String instance) {
        requireNonNull(instance, "instance");
        return sims.stream().anyMatch(sim -> sim.instanceName().equals(instance));
    }

    /** Serves {@link #MODEL} outside the pool. */
    public ModelSimServer outsider() {
        return outsider;
    }

    @Override
    public void close() {
        for (ModelSimServer sim : sims) {
            sim.close();
        }
        if (outsider != null) {
            outsider.close();
        }
    }
}
