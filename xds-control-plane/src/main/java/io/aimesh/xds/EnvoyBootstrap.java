package io.aimesh.xds;

import static java.util.Objects.requireNonNull;

/**
 * Renders an Envoy bootstrap (YAML) that points a sidecar or gateway at the control plane
 * over ADS. The xDS cluster is STATIC or STRICT_DNS, never itself from xDS: Envoy must reach
 * the control plane before it has any dynamic config.
 *
 * @param nodeId the node id Envoy presents; it names the node in {@code /nodes}
 * @param cluster the node's service cluster
 * @param xdsHost the control plane's host (IP or DNS name)
 * @param xdsPort the control plane's ADS port
 * @param adminAddress the IP Envoy's own admin interface binds
 * @param adminPort Envoy's admin port; 0 picks a free one
 * @param delta whether to use incremental (delta) ADS instead of state-of-the-world
 * @param namespace the config scope the node asks for (node metadata {@code aimesh.io/namespace}), or {@code null} for the default
 * @param tls mutual TLS to the control plane, or {@code null} for plaintext
 */
public record EnvoyBootstrap(String nodeId, String cluster, String xdsHost, int xdsPort, String adminAddress, int adminPort,
                             boolean delta, String namespace, XdsTls tls) {
    /** A node of the default scope, over plaintext. */
    public EnvoyBootstrap(String nodeId, String cluster, String xdsHost, int xdsPort, String adminAddress, int adminPort,
                          boolean delta) {
        this(nodeId, cluster, xdsHost, xdsPort, adminAddress, adminPort, delta, null, null);
    }

    public EnvoyBootstrap {
        requireNonNull(nodeId, "nodeId");
        requireNonNull(cluster, "cluster");
        requireNonNull(xdsHost, "xdsHost");
        requireNonNull(adminAddress, "adminAddress");
        if (nodeId.isBlank()) {
            throw new IllegalArgumentException("nodeId: blank");
        }
        if (xdsPort < 1 || xdsPort > 65535) {
            throw new IllegalArgumentException("xdsPort: " + xdsPort + " (expected: 1..65535)");
        }
        if (adminPort < 0 || adminPort > 65535) {
            throw new IllegalArgumentException("adminPort: " + adminPort + " (expected: 0..65535)");
        }
    }

    public EnvoyBootstrap withNamespace(String scope) {
        return new EnvoyBootstrap(nodeId, cluster, xdsHost, xdsPort, adminAddress, adminPort, delta, scope, tls);
    }

    public EnvoyBootstrap withTls(XdsTls mutual) {
        return new EnvoyBootstrap(nodeId, cluster, xdsHost, xdsPort, adminAddress, adminPort, delta, namespace, mutual);
    }

    public String yaml() {
        boolean ip = xdsHost.matches("[0-9.]+|[0-9a-fA-F:]+");
        String metadata = namespace == null ? "" : "  metadata: { \"aimesh.io/namespace\": " + quote(namespace) + " }\n";
        String transport = tls == null ? "" : """
                      transport_socket:
                        name: envoy.transport_sockets.tls
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                          common_tls_context:
                            tls_certificates:
                              - certificate_chain: { filename: %s }
                                private_key: { filename: %s }
                            validation_context:
                              trusted_ca: { filename: %s }
                """.formatted(quote(tls.certificateChain().toString()), quote(tls.privateKey().toString()),
                quote(tls.trustedCa().toString()));
        return """
                node:
                  id: %s
                  cluster: %s
                """.formatted(quote(nodeId), quote(cluster)) + metadata + """
                admin:
                  address:
                    socket_address: { address: %s, port_value: %d }
                dynamic_resources:
                  ads_config:
                    api_type: %s
                    transport_api_version: V3
                    set_node_on_first_message_only: true
                    grpc_services:
                      - envoy_grpc: { cluster_name: aimesh_xds }
                  cds_config: { ads: {}, resource_api_version: V3 }
                  lds_config: { ads: {}, resource_api_version: V3 }
                static_resources:
                  clusters:
                    - name: aimesh_xds
                      type: %s
                      connect_timeout: 1s
                      typed_extension_protocol_options:
                        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                          explicit_http_config:
                            http2_protocol_options:
                              connection_keepalive: { interval: 15s, timeout: 5s }
                      load_assignment:
                        cluster_name: aimesh_xds
                        endpoints:
                          - lb_endpoints:
                              - endpoint:
                                  address:
                                    socket_address: { address: %s, port_value: %d }
                """.formatted(adminAddress, adminPort, delta ? "DELTA_GRPC" : "GRPC",
                ip ? "STATIC" : "STRICT_DNS", xdsHost, xdsPort) + transport;
    }

    private static String quote(String text) {
        return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
