package io.aimesh.bench.e2e;

import java.util.Locale;

/**
 * The request paths the benchmarks compare; {@link #ENVOY} is the baseline of {@link #EXTPROC},
 * {@link #FILTER} and {@link #AIGW}, {@link #EXTPROC} is the floor of {@link #FILTER}, and
 * {@link #DIRECT} the baseline of {@link #LITELLM}.
 */
enum DataPath {
    /** Straight to model-sim: the floor that the generator and model-sim set. */
    DIRECT("direct", "client → model-sim"),
    /**
     * Envoy as a plain proxy to model-sim, reading no body (a static bootstrap, one route): the
     * baseline of the gateways in the peer benchmark, which all read the body their own way.
     */
    PROXY("proxy", "client → Envoy (a plain proxy, no body read) → model-sim"),
    /** Envoy routing by the body's model (json_to_metadata), no Gateway in the policies. */
    ENVOY("envoy", "client → Envoy → model-sim"),
    /**
     * The filter path's policies and so its ext_proc configuration, but the server is a no-op
     * ({@link NoopExtProcMain}): what the ext_proc protocol itself costs.
     */
    EXTPROC("extproc", "client → Envoy → no-op ext_proc server → model-sim"),
    /** The same, with a Gateway that puts the ai-filter (ext_proc) in the path. */
    FILTER("filter", "client → Envoy → ai-filter (ext_proc) → model-sim"),
    /**
     * The same Envoy binary with Envoy AI Gateway's external processor in its path, configured as
     * its controller configures it ({@link AiGatewayPath}); needs {@code --aigw-extproc}.
     */
    AIGW("aigw", "client → Envoy → Envoy AI Gateway extproc (router and upstream ext_proc) → model-sim"),
    /** LiteLLM's proxy, the gateway without Envoy; needs {@code --litellm}. */
    LITELLM("litellm", "client → LiteLLM proxy → model-sim");

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
        throw new IllegalArgumentException("path: " + id + " (expected: direct, proxy, envoy, extproc, filter, aigw or litellm)");
    }
}
