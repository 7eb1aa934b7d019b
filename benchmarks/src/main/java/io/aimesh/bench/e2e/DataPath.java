package io.aimesh.bench.e2e;

import java.util.Locale;

/**
 * The request paths the benchmark compares; {@link #ENVOY} is the baseline of {@link #EXTPROC}
 * and {@link #FILTER}, and {@link #EXTPROC} is the floor of {@link #FILTER}.
 */
enum DataPath {
    /** Straight to model-sim: the floor that the generator and model-sim set. */
    DIRECT("direct", "client → model-sim"),
    /** Envoy routing by the body's model (json_to_metadata), no Gateway in the policies. */
    ENVOY("envoy", "client → Envoy → model-sim"),
    /**
     * The filter path's policies and so its ext_proc configuration, but the server is a no-op
     * ({@link NoopExtProcMain}): what the ext_proc protocol itself costs.
     */
    EXTPROC("extproc", "client → Envoy → no-op ext_proc server → model-sim"),
    /** The same, with a Gateway that puts the ai-filter (ext_proc) in the path. */
    FILTER("filter", "client → Envoy → ai-filter (ext_proc) → model-sim");

    private final String id;
    private final String description;

    DataPath(String id, String description) {
        this.id = id;
        this.description = description;
    }

    /** The name on the command line and in the report. */
    String id() {
        return id;
    }

    String description() {
        return description;
    }

    /** The path named {@code id}; throws {@link IllegalArgumentException} for another name. */
    static DataPath of(String id) {
        for (DataPath path : values()) {
            if (path.id.equals(id.toLowerCase(Locale.ROOT))) {
                return path;
            }
        }
        throw new IllegalArgumentException("path: " + id + " (expected: direct, envoy, extproc or filter)");
    }
}
