package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

/**
 * A position in a policy file. Lines and columns are 1-based, as editors show them.
 */
public record Location(String file, int line, int column) {
    public Location {
        requireNonNull(file, "file");
        if (line < 1) {
            throw new IllegalArgumentException("line: " + line + " (expected: >= 1)");
        }
        if (column < 1) {
            throw new IllegalArgumentException("column: " + column + " (expected: >= 1)");
        }
    }

    @Override
    public String toString() {
        return file + ':' + line + ':' + column;
    }
}
