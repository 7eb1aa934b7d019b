package io.roastedroot.proxywasm.internal;

/**
 * Makes an HTTP context the one a proxy-wasm instance's host calls act on. proxy-wasm-java-host
 * 0.0.5 takes the last context created (or, after one closes, the root context) as the active one
 * and does not switch when the embedder calls another context's callback; with several requests
 * open on one instance, a plugin's header and body calls would then reach another request's maps
 * (or none). The method that switches is package-private, hence this class in the host's package
 * (the jar is on the class path, not a named module).
 */
public final class ActiveContext {
    private ActiveContext() {
    }

    /** Call with the instance's lock held, before any callback of {@code context}. */
    public static void activate(HttpContext context) {
        context.getProxyWasm().setActiveContext(context);
    }
}
