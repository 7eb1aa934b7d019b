package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

/**
 * Data-plane settings: at most one per policy set.
 *
 * @param name the gateway's {@code metadata.name}
 * @param filter the ai-filter in the request path, or {@code null} for none
 */
public record Gateway(String name, FilterSettings filter) {
    public Gateway {
        requireNonNull(name, "name");
    }
}
