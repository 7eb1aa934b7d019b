package io.aimesh.filter.extproc;

import io.aimesh.filter.api.Sha256;

/** API keys are compared by SHA-256 digest only; the key itself is never stored or logged. */
final class ApiKeys {
    private ApiKeys() {
    }

    /** The lower-case hex SHA-256 of {@code key}'s UTF-8 bytes. */
    static String sha256(String key) {
        return Sha256.hex(key);
    }
}
