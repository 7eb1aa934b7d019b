package io.aimesh.filter.config;

import io.aimesh.filter.api.FilterConfig;

/** Compiles a {@link FilterConfig} for tests outside this package, as the config client does. */
public final class CompiledConfigs {
    private CompiledConfigs() {
    }

    /** @throws IllegalArgumentException when {@code config} does not compile */
    public static RuntimeConfig of(FilterConfig config) {
        try {
            return RuntimeConfig.compile(config, "test");
        } catch (InvalidConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
