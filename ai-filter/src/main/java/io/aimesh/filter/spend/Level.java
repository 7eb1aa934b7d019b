package io.aimesh.filter.spend;

import java.util.Locale;

/** The levels of the spend hierarchy, from the narrowest. A request must fit a budget at every level above it. */
public enum Level {
    KEY, TENANT, TEAM, ORGANIZATION;

    /** {@code key}, {@code tenant}, {@code team} or {@code organization}: the name in headers, decisions and metrics. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
