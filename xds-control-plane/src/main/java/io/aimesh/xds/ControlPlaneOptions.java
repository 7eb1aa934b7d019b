package io.aimesh.xds;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How to run a {@link ControlPlane}.
 *
 * @param policies the policy directory
 * @param xdsAddress the IP the ADS gRPC server binds: loopback, or any address with {@code xdsTls}
 * @param xdsPort the ADS port; 0 picks a free port
 * @param adminAddress the IP the admin HTTP server binds (loopback unless told otherwise)
 * @param adminPort the admin port; 0 picks a free port
 * @param listenerAddress the IP Envoy's HTTP listener binds
 * @param listenerPort the port of Envoy's HTTP listener
 * @param debounceQuiet a reload waits until no edit has arrived for this long
 * @param debounceMax but never longer than this after the first edit of a burst
 * @param xdsTls mutual TLS for ADS (the nodes' certificates then prove their scopes), or {@code null} for plaintext
 * @param endpointRefresh how often the pools' endpoint names are resolved again, {@code > 0}
 * @param rolloutState the file that keeps the rollouts' state across restarts, or {@code null} to keep it in memory only
 * @param adminTokenFile a file holding the token the admin pages require (not the probes, not {@code /metrics}), or
 *     {@code null}: then the dashboard is served on loopback only
 */
public record ControlPlaneOptions(Path policies, String xdsAddress, int xdsPort, String adminAddress, int adminPort,
                                  String listenerAddress, int listenerPort, Duration debounceQuiet, Duration debounceMax,
                                  XdsTls xdsTls, Duration endpointRefresh, Path rolloutState, Path adminTokenFile) {
    public ControlPlaneOptions {
        requireNonNull(policies, "policies");
        requireNonNull(xdsAddress, "xdsAddress");
        requireNonNull(adminAddress, "adminAddress");
        requireNonNull(listenerAddress, "listenerAddress");
        checkPort("xdsPort", xdsPort, 0);
        checkPort("adminPort", adminPort, 0);
        checkPort("listenerPort", listenerPort, 1);
        if (debounceQuiet.isNegative() || debounceMax.compareTo(debounceQuiet) < 0) {
            throw new IllegalArgumentException("debounce: quiet " + debounceQuiet + ", max " + debounceMax
                    + " (expected: 0 <= quiet <= max)");
        }
        if (endpointRefresh.isZero() || endpointRefresh.isNegative()) {
            throw new IllegalArgumentException("endpointRefresh: " + endpointRefresh + " (expected: > 0)");
        }
    }

    /**
     * Defaults: ADS on 127.0.0.1:18000 (plaintext ADS hands any caller the tenants' key digests and
     * the Redis URI, so it stays on loopback unless mutual TLS guards it), admin on 127.0.0.1:19000,
     * Envoy listening on 0.0.0.0:10000, debounce 100 ms / 1 s, endpoint names resolved again every 5 s.
     */
    public static ControlPlaneOptions defaults(Path policies) {
        return new ControlPlaneOptions(policies, "127.0.0.1", 18000, "127.0.0.1", 19000, "0.0.0.0", 10000,
                Duration.ofMillis(100), Duration.ofSeconds(1), null, Duration.ofSeconds(5), null, null);
    }

    public ControlPlaneOptions withXds(String address, int port) {
        return new ControlPlaneOptions(policies, address, port, adminAddress, adminPort, listenerAddress, listenerPort,
                debounceQuiet, debounceMax, xdsTls, endpointRefresh, rolloutState, adminTokenFile);
    }

    public ControlPlaneOptions withAdmin(String address, int port) {
        return new ControlPlaneOptions(policies, xdsAddress, xdsPort, address, port, listenerAddress, listenerPort,
                debounceQuiet, debounceMax, xdsTls, endpointRefresh, rolloutState, adminTokenFile);
    }

    public ControlPlaneOptions withListener(String address, int port) {
        return new ControlPlaneOptions(policies, xdsAddress, xdsPort, adminAddress, adminPort, address, port,
                debounceQuiet, debounceMax, xdsTls, endpointRefresh, rolloutState, adminTokenFile);
    }

    public ControlPlaneOptions withXdsTls(XdsTls tls) {
        return new ControlPlaneOptions(policies, xdsAddress, xdsPort, adminAddress, adminPort, listenerAddress, listenerPort,
                debounceQuiet, debounceMax, tls, endpointRefresh, rolloutState, adminTokenFile);
    }

    public ControlPlaneOptions withEndpointRefresh(Duration every) {
        return new ControlPlaneOptions(policies, xdsAddress, xdsPort, adminAddress, adminPort, listenerAddress, listenerPort,
                debounceQuiet, debounceMax, xdsTls, every, rolloutState, adminTokenFile);
    }

    public ControlPlaneOptions withRolloutState(Path file) {
        return new ControlPlaneOptions(policies, xdsAddress, xdsPort, adminAddress, adminPort, listenerAddress, listenerPort,
                debounceQuiet, debounceMax, xdsTls, endpointRefresh, file, adminTokenFile);
    }

    public ControlPlaneOptions withAdminTokenFile(Path file) {
        return new ControlPlaneOptions(policies, xdsAddress, xdsPort, adminAddress, adminPort, listenerAddress, listenerPort,
                debounceQuiet, debounceMax, xdsTls, endpointRefresh, rolloutState, file);
    }

    /** Whether the admin server binds loopback only. */
    public boolean adminOnLoopback() {
        return isLoopback(adminAddress);
    }

    /**
     * Refuses plaintext ADS off loopback. Checked when the control plane starts rather than here, so
     * that {@code withXds(...).withXdsTls(...)} may be chained in either order.
     *
     * @throws IllegalArgumentException when {@code xdsAddress} is not a loopback address and {@code xdsTls} is null
     */
    public void checkXdsExposure() {
        if (xdsTls == null && !isLoopback(xdsAddress)) {
            throw new IllegalArgumentException("ADS on " + xdsAddress + " without mutual TLS would serve every tenant's key "
                    + "digests, the Redis URI and the JWKS to anyone who can connect; bind it to loopback "
                    + "(--xds-address 127.0.0.1) or give --xds-tls-cert, --xds-tls-key and --xds-tls-client-ca");
        }
    }

    private static boolean isLoopback(String address) {
        try {
            for (InetAddress ip : InetAddress.getAllByName(address)) {
                if (!ip.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return false; // not knowing where it binds, refuse rather than guess
        }
    }

    private static void checkPort(String name, int port, int min) {
        if (port < min || port > 65535) {
            throw new IllegalArgumentException(name + ": " + port + " (expected: " + min + "..65535)");
        }
    }
}
