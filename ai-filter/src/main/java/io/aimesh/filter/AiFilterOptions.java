package io.aimesh.filter;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * How to run an {@link AiFilter}.
 *
 * @param controlPlane the control plane's ADS address, host:port
 * @param nodeId the node id the filter presents to the control plane
 * @param grpcAddress the IP the ext_proc server binds
 * @param grpcPort the ext_proc port; 0 picks a free one
 * @param adminAddress the IP the admin server binds (loopback unless told otherwise)
 * @param adminPort the admin port; 0 picks a free one
 * @param namespace the config scope the filter asks the control plane for, or {@code null} for the default
 * @param xdsTls mutual TLS to the control plane, or {@code null} for plaintext
 * @param spendDirectory where the spend journal lives (durable spend budgets), or {@code null} to
 *     keep spend in memory only (a restart forgets it, unless Redis shares it)
 * @param clock what places requests in budget periods; the system's in UTC but for tests
 */
public record AiFilterOptions(String controlPlane, String nodeId, String grpcAddress, int grpcPort,
                              String adminAddress, int adminPort, String namespace, XdsClientTls xdsTls,
                              Path spendDirectory, java.time.Clock clock) {
    /** A filter of the default scope, over plaintext, spend in memory. */
    public AiFilterOptions(String controlPlane, String nodeId, String grpcAddress, int grpcPort, String adminAddress,
                           int adminPort) {
        this(controlPlane, nodeId, grpcAddress, grpcPort, adminAddress, adminPort, null, null, null,
                java.time.Clock.systemUTC());
    }

    /**
     * Mutual TLS to the control plane, from PEM files.
     *
     * @param certificateChain the filter's client certificate chain (its SPIFFE ID names its namespace)
     * @param privateKey its private key (PKCS#8)
     * @param trustedCa the CA that signs the control plane's certificate
     */
    public record XdsClientTls(Path certificateChain, Path privateKey, Path trustedCa) {
        public XdsClientTls {
            requireNonNull(certificateChain, "certificateChain");
            requireNonNull(privateKey, "privateKey");
            requireNonNull(trustedCa, "trustedCa");
        }
    }

    public AiFilterOptions withNamespace(String scope) {
        return new AiFilterOptions(controlPlane, nodeId, grpcAddress, grpcPort, adminAddress, adminPort, scope, xdsTls,
                spendDirectory, clock);
    }

    public AiFilterOptions withXdsTls(XdsClientTls tls) {
        return new AiFilterOptions(controlPlane, nodeId, grpcAddress, grpcPort, adminAddress, adminPort, namespace, tls,
                spendDirectory, clock);
    }

    public AiFilterOptions withSpendDirectory(Path directory) {
        return new AiFilterOptions(controlPlane, nodeId, grpcAddress, grpcPort, adminAddress, adminPort, namespace, xdsTls,
                directory, clock);
    }

    public AiFilterOptions withClock(java.time.Clock periodClock) {
        return new AiFilterOptions(controlPlane, nodeId, grpcAddress, grpcPort, adminAddress, adminPort, namespace, xdsTls,
                spendDirectory, periodClock);
    }

    public AiFilterOptions {
        requireNonNull(controlPlane, "controlPlane");
        requireNonNull(nodeId, "nodeId");
        requireNonNull(grpcAddress, "grpcAddress");
        requireNonNull(adminAddress, "adminAddress");
        requireNonNull(clock, "clock");
        if (grpcPort < 0 || grpcPort > 65535) {
            throw new IllegalArgumentException("grpcPort: " + grpcPort + " (expected: 0..65535)");
        }
        if (adminPort < 0 || adminPort > 65535) {
            throw new IllegalArgumentException("adminPort: " + adminPort + " (expected: 0..65535)");
        }
    }
}
