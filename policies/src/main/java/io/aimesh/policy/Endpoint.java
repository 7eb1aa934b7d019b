package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

/** A model server address. {@code host} is an IP literal or a DNS name; {@code port} is 1..65535. */
public record Endpoint(String host, int port) {
    public Endpoint {
        requireNonNull(host, "host");
        if (host.isEmpty()) {
            throw new IllegalArgumentException("host: empty");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 1..65535)");
        }
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? '[' + host + "]:" + port : host + ':' + port;
    }
}
