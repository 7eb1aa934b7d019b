package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

/**
 * Forces a version when a request carries {@code header: value}, whatever the weights say.
 *
 * @param header a lower-case HTTP header name
 * @param value the exact value that triggers the override
 * @param version the name of the {@link ModelVersion} to use
 */
public record HeaderOverride(String header, String value, String version) {
    public HeaderOverride {
        requireNonNull(header, "header");
        requireNonNull(value, "value");
        requireNonNull(version, "version");
    }
}
