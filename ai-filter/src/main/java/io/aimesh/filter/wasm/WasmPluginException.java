package io.aimesh.filter.wasm;

/** A plugin trapped, ran out of memory, or failed to start: the request it ran for fails (or passes, per its failure mode). */
public final class WasmPluginException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public WasmPluginException(String message, Throwable cause) {
        super(message, cause);
    }
}
