package io.aimesh.filter.config;

/** A filter config from the control plane that cannot be applied; it is NACKed with this message. */
final class InvalidConfigException extends Exception {
    InvalidConfigException(String message) {
        super(message);
    }
}
