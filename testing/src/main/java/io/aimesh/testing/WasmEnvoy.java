package io.aimesh.testing;

import java.nio.file.Path;

/**
 * A static Envoy bootstrap with no control plane: one listener on loopback routing everything to one
 * upstream, and, when a module is given, Envoy's own wasm filter (V8) running that proxy-wasm plugin
 * before the router. What aimesh's plugins are compared with.
 */
public final class WasmEnvoy {
    private WasmEnvoy() {
    }

    /**
     * @param wasm the plugin's module, or {@code null} for Envoy alone
     * @param configuration the plugin's configuration (Envoy's {@code configuration}, a string)
     */
    public static String bootstrap(int listenerPort, int upstreamPort, Path wasm, String configuration) {
        String plugin = wasm == null ? "" : """
                                  - name: envoy.filters.http.wasm
                                    typed_config:
                                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                                      config:
                                        name: plugin
                                        configuration: {"@type": type.googleapis.com/google.protobuf.StringValue, value: "%s"}
                                        vm_config: {runtime: envoy.wasm.runtime.v8, code: {local: {filename: "%s"}}}
                """.formatted(configuration.replace("\\", "\\\\").replace("\"", "\\\""), wasm.toAbsolutePath());
        return """
                admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
                static_resources:
                  listeners:
                    - name: in
                      address: {socket_address: {address: 127.0.0.1, port_value: %d}}
                      filter_chains:
                        - filters:
                            - name: envoy.filters.network.http_connection_manager
                              typed_config:
                                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                                stat_prefix: in
                                route_config:
                                  virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: upstream}}]}]
                                http_filters:
                %s                  - name: envoy.filters.http.router
                                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  clusters:
                    - name: upstream
                      type: STATIC
                      load_assignment:
                        cluster_name: upstream
                        endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
                """.formatted(listenerPort, plugin, upstreamPort);
    }
}
