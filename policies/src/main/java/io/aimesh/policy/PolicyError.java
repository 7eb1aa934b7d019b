package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

/**
 * One problem found in a policy file.
 *
 * @param location where the problem is
 * @param path the field path inside the resource, e.g. {@code ModelRoute/llama spec.versions[1].weight};
 *     empty when the problem is with the file itself (such as a YAML syntax error)
 * @param message what is wrong and what was expected
 */
public record PolicyError(Location location, String path, String message) {
    public PolicyError {
        requireNonNull(location, "location");
        requireNonNull(path, "path");
        requireNonNull(message, "message");
    }

    /** Renders as {@code file:line:column: path: message}, the form compilers use so editors can jump to it. */
    @Override
    public String toString() {
        return path.isEmpty() ? location + ": " + message : location + ": " + path + ": " + message;
    }
}
