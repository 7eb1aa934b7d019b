package io.aimesh.filter;

import static java.util.Objects.requireNonNull;

/**
 * How to run an {@link AiFilter}.
 *
 * @param controlPlane the control plane's ADS address, host:port
 * @param nodeId the node id the filter presents to the control plane
 * @param grpcAddress the IP the ext_proc server binds
 * @param grpcPort the ext_proc port; 0 picks a free one
 * @param adminAddress the IP the admin server binds (loopback unless told otherwise)
 * @param adminPort the admin port; 0 picks a free one
 */
public record AiFilterOptions(String controlPlane, String nodeId, String grpcAddress, int grpcPort,
                              String adminAddress, int adminPort) {
    public AiFilterOptions {
        requireNonNull(controlPlane, "controlPlane");
        requireNonNull(nodeId, "nodeId");
        requireNonNull(grpcAddress, "grpcAddress");
        requireNonNull(adminAddress, "adminAddress");
        if (grpcPort < 0 || grpcPort > 65535) {
            throw new IllegalArgumentException("grpcPort: " + grpcPort + " (expected: 0..65535)");
        }
        if (adminPort < 0 || adminPort > 65535) {
            throw new IllegalArgumentException("adminPort: " + adminPort + " (expected: 0..65535)");
        }
    }
}
