package io.aimesh.bench.e2e;

import io.aimesh.internal.ChildProcess;
import io.aimesh.testing.Envoy;
import io.aimesh.testing.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Envoy AI Gateway's request path without Kubernetes: its external processor (the {@code extproc}
 * command of envoyproxy/ai-gateway, built by benchmarks/scripts/install-ai-gateway.sh) and the same
 * Envoy binary as the other paths, on a static bootstrap that mirrors what its controller generates
 * (internal/extensionserver/post_translate_modify.go at v1.1.0):
 *
 * <ul>
 *   <li>a router-level ext_proc filter (request headers, request body buffered, response headers,
 *       response body buffered and switched to streamed by the extproc for a stream; mode override
 *       allowed), which reads the body's model into {@code x-ai-eg-model} and has the route cache
 *       cleared, so the route matches on that header;</li>
 *   <li>the same extproc as an upstream filter of the backend's cluster (request headers only),
 *       which it needs to find the backend and to count tokens; then the header mutation that
 *       restores content-length, and the upstream codec;</li>
 *   <li>token costs (input, output, total) per route, written to dynamic metadata at the end of
 *       each response, as a usage-based rate limit would read them.</li>
 * </ul>
 *
 * <p>No rate limit is enforced: AI Gateway's token limits need Envoy's global rate-limit filter and a
 * rate-limit service with Redis, which this path leaves out (in its favour: the aimesh filter path
 * does enforce a tenant limit). The extproc listens on TCP loopback (its controller uses a unix
 * socket); its admin port binds every interface, as it always does.
 */
final class AiGatewayPath implements AutoCloseable {
    static final String ROUTE = "bench/bench-route";

    private final Process extproc;
    private final Envoy envoy;
    private final int listenerPort;
    private final Path log;

    private AiGatewayPath(Process extproc, Envoy envoy, int listenerPort, Path log) {
        this.extproc = extproc;
        this.envoy = envoy;
        this.listenerPort = listenerPort;
        this.log = log;
    }

    /** Starts the extproc and its Envoy ({@code concurrency} workers) in front of the model server at {@code simPort}. */
    static AiGatewayPath start(Path binary, Path dir, int simPort, int concurrency) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path config = dir.resolve("extproc.yaml");
        Files.writeString(config, extprocConfig());
        Ports.Held grpc = Ports.hold();
        Ports.Held admin = Ports.hold();
        Ports.Held listener = Ports.hold();
        grpc.release();
        admin.release();
        Path log = dir.resolve("extproc.log");
        ProcessBuilder command = new ProcessBuilder(binary.toString(), "-configPath", config.toString(),
                "-extProcAddr", "127.0.0.1:" + grpc.port(), "-adminPort", Integer.toString(admin.port()), "-logLevel", "warn")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        command.environment().put("DISABLE_PPROF", "1"); // else it takes 127.0.0.1:6060
        Process extproc = command.start();
        listener.release();
        try {
            Envoy envoy = Envoy.start(bootstrap(listener.port(), grpc.port(), simPort), dir.resolve("envoy.log"), concurrency,
                    "warning");
            return new AiGatewayPath(extproc, envoy, listener.port(), log);
        } catch (IOException | RuntimeException e) {
            stop(extproc);
            throw e;
        }
    }

    int listenerPort() {
        return listenerPort;
    }

    Envoy envoy() {
        return envoy;
    }

    long extprocPid() {
        return extproc.pid();
    }

    /** The end of the extproc's log, for a failure message. */
    String logTail(int lines) {
        return ChildProcess.tail(log, lines);
    }

    @Override
    public void close() {
        envoy.close();
        stop(extproc);
    }

    /** It waits 15 s after SIGTERM before it stops: nothing is in flight here by then, so it is killed. */
    private static void stop(Process process) {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Its filter config: one OpenAI backend, token costs on the route; {@code version: dev} is what a plain build reports. */
    private static String extprocConfig() {
        return """
                version: dev
                uuid: aimesh-bench
                backends:
                  - name: bench-backend
                    schema: {name: OpenAI, prefix: v1}
                llmRequestCosts:
                  - {metadataKey: llm_input_token, routeName: %1$s, type: InputToken}
                  - {metadataKey: llm_output_token, routeName: %1$s, type: OutputToken}
                  - {metadataKey: llm_total_token, routeName: %1$s, type: TotalToken}
                """.formatted(ROUTE);
    }

    private static String bootstrap(int listenerPort, int grpcPort, int simPort) {
        return """
                admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
                static_resources:
                  listeners:
                    - name: aigw
                      address: {socket_address: {address: 127.0.0.1, port_value: %1$d}}
                      per_connection_buffer_limit_bytes: 52428800
                      filter_chains:
                        - filters:
                            - name: envoy.filters.network.http_connection_manager
                              typed_config:
                                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                                stat_prefix: aigw
                                scheme_header_transformation: {match_upstream: true}
                                route_config:
                                  name: aigw
                                  virtual_hosts:
                                    - name: aigw
                                      domains: ["*"]
                                      routes:
                                        - name: bench-route
                                          match:
                                            prefix: "/"
                                            headers: [{name: x-ai-eg-model, string_match: {exact: %4$s}}]
                                          route: {cluster: bench, timeout: 300s}
                                          metadata: {filter_metadata: {aigateway.envoy.io: {aigw_route_name: %5$s}}}
                                http_filters:
                                  - name: envoy.filters.http.ext_proc/aigateway
                                    typed_config:
                                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
                                      grpc_service: {envoy_grpc: {cluster_name: aigw-extproc}}
                                      processing_mode:
                                        request_header_mode: SEND
                                        request_body_mode: BUFFERED
                                        request_trailer_mode: SKIP
                                        response_header_mode: SEND
                                        response_body_mode: BUFFERED
                                        response_trailer_mode: SKIP
                                      message_timeout: 10s
                                      failure_mode_allow: false
                                      allow_mode_override: true
                                      metadata_options: {receiving_namespaces: {untyped: [io.envoy.ai_gateway]}}
                                  - name: envoy.filters.http.router
                                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  clusters:
                    - name: aigw-extproc
                      type: STATIC
                      connect_timeout: 10s
                      per_connection_buffer_limit_bytes: 52428800
                      typed_extension_protocol_options:
                        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                          explicit_http_config:
                            http2_protocol_options: {initial_connection_window_size: 1048576, initial_stream_window_size: 65536}
                      load_assignment:
                        cluster_name: aigw-extproc
                        endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %2$d}}}}]}]
                    - name: bench
                      type: STATIC
                      connect_timeout: 10s
                      per_connection_buffer_limit_bytes: 52428800
                      typed_extension_protocol_options:
                        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                          explicit_http_config: {http_protocol_options: {}}
                          http_filters:
                            - name: envoy.filters.http.ext_proc/aigateway
                              typed_config:
                                "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
                                grpc_service: {envoy_grpc: {cluster_name: aigw-extproc}, timeout: 30s}
                                processing_mode: {request_header_mode: SEND, request_body_mode: NONE, response_header_mode: SKIP, response_body_mode: NONE}
                                message_timeout: 10s
                                allow_mode_override: true
                                request_attributes:
                                  - xds.upstream_host_metadata.filter_metadata['aigateway.envoy.io']['per_route_rule_backend_name']
                                  - xds.cluster_metadata.filter_metadata['aigateway.envoy.io']['per_route_rule_backend_name']
                                  - xds.upstream_host_metadata.filter_metadata['aigateway.envoy.io']['upstream_host']
                                  - xds.route_metadata.filter_metadata['aigateway.envoy.io']['aigw_route_name']
                                metadata_options: {receiving_namespaces: {untyped: [io.envoy.ai_gateway]}}
                            - name: envoy.filters.http.header_mutation
                              typed_config:
                                "@type": type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation
                                mutations:
                                  request_mutations:
                                    - append:
                                        append_action: ADD_IF_ABSENT
                                        header: {key: content-length, value: "%%DYNAMIC_METADATA(io.envoy.ai_gateway:content_length)%%"}
                            - name: envoy.filters.http.upstream_codec
                              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec}
                      load_assignment:
                        cluster_name: bench
                        endpoints:
                          - lb_endpoints:
                              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %3$d}}}
                                metadata: {filter_metadata: {aigateway.envoy.io: {per_route_rule_backend_name: bench-backend}}}
                """.formatted(listenerPort, grpcPort, simPort, ChatRequest.MODEL, ROUTE);
    }
}
