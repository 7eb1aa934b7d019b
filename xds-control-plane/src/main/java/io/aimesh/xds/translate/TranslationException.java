package io.aimesh.xds.translate;

/** Policies that validated but cannot be turned into Envoy configuration, e.g. an unresolvable host. */
public final class TranslationException extends Exception {
    public TranslationException(String message, Throwable cause) {
        super(message, cause);
    }
}
