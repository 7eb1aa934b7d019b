package io.aimesh.policy;

import java.util.List;

/**
 * The outcome of loading policies: either a complete {@link PolicySet} or every error found.
 *
 * @param policies the loaded policies, or {@code null} when there are errors
 * @param errors every problem found, in file and line order; empty when {@code policies} is set
 * @param sources where each resource is written: {@link #sourceKey} to the start of its document
 */
public record LoadResult(PolicySet policies, List<PolicyError> errors, java.util.Map<String, Location> sources) {
    public LoadResult(PolicySet policies, List<PolicyError> errors) {
        this(policies, errors, java.util.Map.of());
    }

    /** How {@link #sources} names a resource: {@code Tenant/acme}, {@code team-a/Tenant/acme} outside the default namespace. */
    public static String sourceKey(String namespace, String kind, String name) {
        return (namespace == null || namespace.isEmpty() ? "" : namespace + "/") + kind + "/" + name;
    }

    public LoadResult {
        errors = List.copyOf(errors);
        sources = java.util.Map.copyOf(sources);
        if ((policies == null) == errors.isEmpty()) {
            throw new IllegalArgumentException("exactly one of policies and errors must be given");
        }
    }

    public boolean ok() {
        return policies != null;
    }
}
