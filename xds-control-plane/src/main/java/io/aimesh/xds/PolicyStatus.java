package io.aimesh.xds;

import java.time.Instant;
import java.util.List;

/**
 * The outcome of the latest policy reloads, for the admin API.
 *
 * @param servingVersion the snapshot version being served, or {@code null} before the first valid load
 * @param servingSince when that version was applied, or {@code null}
 * @param lastRejected when the latest reload was rejected, the time; {@code null} when the latest reload was applied
 * @param errors the errors of the latest rejected reload, empty when the latest reload was applied
 */
public record PolicyStatus(String servingVersion, Instant servingSince, Instant lastRejected, List<String> errors) {
    public PolicyStatus {
        errors = List.copyOf(errors);
    }

    static PolicyStatus initial() {
        return new PolicyStatus(null, null, null, List.of());
    }

    PolicyStatus applied(String version) {
        return new PolicyStatus(version, Instant.now(), null, List.of());
    }

    /** The same policies now serve as {@code version} (new EDS weights): a rejected reload stays on record. */
    PolicyStatus reserved(String version) {
        return new PolicyStatus(version, Instant.now(), lastRejected, errors);
    }

    PolicyStatus rejected(List<String> reasons) {
        return new PolicyStatus(servingVersion, servingSince, Instant.now(), reasons);
    }
}
