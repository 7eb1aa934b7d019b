package io.aimesh.policy;

import java.util.List;

/**
 * The outcome of loading policies: either a complete {@link PolicySet} or every error found.
 *
 * @param policies the loaded policies, or {@code null} when there are errors
 * @param errors every problem found, in file and line order; empty when {@code policies} is set
 */
public record LoadResult(PolicySet policies, List<PolicyError> errors) {
    public LoadResult {
        errors = List.copyOf(errors);
        if ((policies == null) == errors.isEmpty()) {
            throw new IllegalArgumentException("exactly one of policies and errors must be given");
        }
    }

    public boolean ok() {
        return policies != null;
    }
}
