package io.aimesh.picker;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * One model server of a pool: the address that both its API and its {@code /metrics} are served on.
 *
 * @param host an IPv4 address in dotted-quad form, or an IPv6 address without brackets; not a host
 *     name, because Envoy's ORIGINAL_DST cluster connects to the address in
 *     {@code x-gateway-destination-endpoint} as it is, without resolving it
 * @param port {@code 1} to {@code 65535}
 */
public record Endpoint(String host, int port) {
    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");

    public Endpoint {
        requireNonNull(host, "host");
        if (!IPV4.matcher(host).matches() && !isIpv6(host)) {
            throw new IllegalArgumentException("host: \"" + host + "\" (expected: an IPv4 or IPv6 address)");
        }
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 1 to 65535)");
        }
    }

    /**
     * The endpoint as {@code host:port}, with an IPv6 host in brackets: the value of the
     * {@code x-gateway-destination-endpoint} header and of the URL authority.
     */
    public String authority() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }

    @Override
    public String toString() {
        return authority();
    }

    private static boolean isIpv6(String host) {
        if (host.indexOf(':') < 0 || !IPV6_CHARS.matcher(host).matches()) {
            return false;
        }
        try {
            // A string with a colon is parsed as an IPv6 literal, never looked up.
            InetAddress.getByName(host);
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
