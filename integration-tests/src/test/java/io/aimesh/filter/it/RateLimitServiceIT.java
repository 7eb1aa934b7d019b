package io.aimesh.filter.it;

import io.aimesh.testing.Ports;
import io.aimesh.testing.Mesh;
import io.aimesh.testing.Envoy;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UInt64Value;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Envoy's rate limit service API on the filter's gRPC port, against the same budgets as the
 * ext_proc path: what a ShouldRateLimit call spends, an inference request no longer has.
 */
class RateLimitServiceIT {
    @Test
    void shouldRateLimit_chargesTheTenantsBudgets_sharedWithTheInferencePath() throws Exception {
        try (Mesh mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(1_000).start()) {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", mesh.filterPort()).usePlaintext().build();
            try {
                var rls = RateLimitServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
                for (int i = 0; i < 3; i++) {
                    RateLimitResponse ok = rls.shouldRateLimit(request("acme", 300));
                    assertThat(ok.getOverallCode()).as("call %d", i).isEqualTo(RateLimitResponse.Code.OK);
                    assertThat(ok.getStatuses(0).getLimitRemaining()).isEqualTo(1_000 - 300 * (i + 1));
                }
                RateLimitResponse over = rls.shouldRateLimit(request("acme", 300));
                assertThat(over.getOverallCode()).isEqualTo(RateLimitResponse.Code.OVER_LIMIT);
                assertThat(over.getStatuses(0).getCode()).isEqualTo(RateLimitResponse.Code.OVER_LIMIT);
                assertThat(over.getStatuses(0).getDurationUntilReset().getSeconds()).isBetween(0L, 60L);

                // A tenant no policy names is not limited, as envoyproxy/ratelimit answers for an unmatched descriptor.
                RateLimitResponse stranger = rls.shouldRateLimit(request("nobody", 1_000_000));
                assertThat(stranger.getOverallCode()).isEqualTo(RateLimitResponse.Code.OK);

                // The budget RLS spent is the one inference requests draw from: 100 tokens are left, too few for one.
                HttpResponse<String> chat = mesh.chat(Mesh.ACME_KEY, false, 200, Map.of());
                assertThat(chat.statusCode()).as(chat.body()).isEqualTo(429);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void envoysNativeRatelimitFilter_usesTheFilterAsItsRateLimitService() throws Exception {
        // acme may have 3 tokens a minute; each call through Envoy's filter costs 1 (no hits_addend).
        try (Mesh mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(3).start()) {
            Ports.Held listener = Ports.hold();
            int port = listener.port();
            String yaml = """
                    node: {id: native-rls, cluster: aimesh-test}
                    admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
                    static_resources:
                      listeners:
                        - name: edge
                          address: {socket_address: {address: 127.0.0.1, port_value: %d}}
                          filter_chains:
                            - filters:
                                - name: envoy.filters.network.http_connection_manager
                                  typed_config:
                                    "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                                    stat_prefix: edge
                                    route_config:
                                      virtual_hosts:
                                        - name: all
                                          domains: ["*"]
                                          routes:
                                            - match: {prefix: "/"}
                                              route: {cluster: backend}
                                          rate_limits:
                                            - actions: [{request_headers: {header_name: x-tenant, descriptor_key: tenant}}]
                                    http_filters:
                                      - name: envoy.filters.http.ratelimit
                                        typed_config:
                                          "@type": type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit
                                          domain: aimesh
                                          failure_mode_deny: true
                                          rate_limit_service:
                                            transport_api_version: V3
                                            grpc_service: {envoy_grpc: {cluster_name: aimesh_rls}}
                                      - name: envoy.filters.http.router
                                        typed_config:
                                          "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
                      clusters:
                        - name: backend
                          type: STATIC
                          connect_timeout: 1s
                          load_assignment:
                            cluster_name: backend
                            endpoints:
                              - lb_endpoints:
                                  - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                        - name: aimesh_rls
                          type: STATIC
                          connect_timeout: 1s
                          typed_extension_protocol_options:
                            envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                              "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                              explicit_http_config: {http2_protocol_options: {}}
                          load_assignment:
                            cluster_name: aimesh_rls
                            endpoints:
                              - lb_endpoints:
                                  - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                    """.formatted(port, mesh.sims().get(0).port(), mesh.filterPort());
            listener.release(); // Envoy binds it as it starts
            try (Envoy envoy = Envoy.start("native-rls", yaml)) {
                java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
                java.util.function.IntSupplier send = () -> {
                    try {
                        return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/health"))
                                        .header("x-tenant", "acme").build(),
                                java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                };
                // Three calls fit (the first answer once Envoy is up is one); the fourth is over: Envoy
                // answers 429 itself, on aimesh's OVER_LIMIT.
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> send.getAsInt() != 503);
                assertThat(send.getAsInt()).isNotEqualTo(429);
                assertThat(send.getAsInt()).isNotEqualTo(429);
                assertThat(send.getAsInt()).isEqualTo(429);
                assertThat(envoy.admin("/stats")).contains("cluster.backend.ratelimit.over_limit: 1");
            }
        }
    }

    private static RateLimitRequest request(String tenant, long hits) {
        return RateLimitRequest.newBuilder()
                .setDomain("aimesh")
                .addDescriptors(RateLimitDescriptor.newBuilder()
                        .addEntries(RateLimitDescriptor.Entry.newBuilder().setKey("tenant").setValue(tenant))
                        .setHitsAddend(UInt64Value.of(hits)))
                .build();
    }
}
