package io.aimesh.xds.translate;

import static io.aimesh.xds.snapshot.ResourceType.CLUSTER;
import static io.aimesh.xds.snapshot.ResourceType.ENDPOINT;
import static io.aimesh.xds.snapshot.ResourceType.LISTENER;
import static io.aimesh.xds.snapshot.ResourceType.ROUTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import com.github.xds.type.v3.TypedStruct;
import com.google.protobuf.util.JsonFormat;
import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.Model;
import io.aimesh.filter.api.Pool;
import io.aimesh.filter.api.WireContract;
import io.aimesh.policy.LoadResult;
import io.aimesh.policy.PolicyLoader;
import io.aimesh.policy.PolicySet;
import io.aimesh.xds.snapshot.ResourceType;
import io.aimesh.xds.snapshot.XdsSnapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.header_mutation.v3.HeaderMutation;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3.ClientSideWeightedRoundRobin;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The exact Envoy resources compiled from small policies (no Gateway, so no ai-filter), and how their
 * versions move. The expected resources are in protobuf text format, as Envoy's config dump shows them.
 */
final class EnvoyTranslatorTest {
    private static final EnvoyTranslator TRANSLATOR = new EnvoyTranslator("127.0.0.1", 10000);

    private static final String POOLS = """
            apiVersion: aimesh.io/v1alpha1
            kind: InferencePool
            metadata: {name: llama-v1}
            spec:
              endpoints: ["10.0.0.1:8000", "10.0.0.2:8001"]
              connectTimeout: 250ms
            ---
            apiVersion: aimesh.io/v1alpha1
            kind: InferencePool
            metadata: {name: llama-v2}
            spec:
              endpoints: ["10.0.1.1:9000"]
            """;

    private static final String ADS = "ads {} resource_api_version: V3";
    private static final String RETRY = """
            retry_policy { retry_on: "connect-failure,refused-stream,reset-before-request" num_retries { value: 2 } }""";

    @Test
    void clusters_arePoolNamedEdsOverAdsWithPoolConnectTimeout() throws Exception {
        XdsSnapshot snapshot = TRANSLATOR.translate(load(POOLS + route(90, 10)));

        assertThat(snapshot.resources(CLUSTER)).containsOnlyKeys("pool_llama-v1", "pool_llama-v2");
        assertThat(snapshot.resource(CLUSTER, "pool_llama-v1").message()).isEqualTo(parse(Cluster.newBuilder(), """
                name: "pool_llama-v1"
                type: EDS
                eds_cluster_config { eds_config { %s } service_name: "pool_llama-v1" }
                connect_timeout { nanos: 250000000 }
                lb_policy: ROUND_ROBIN
                circuit_breakers { thresholds {
                  max_connections { value: 100000 } max_pending_requests { value: 100000 } max_requests { value: 100000 }
                } }
                """.formatted(ADS)));
        Cluster v2 = (Cluster) snapshot.resource(CLUSTER, "pool_llama-v2").message();
        assertThat(v2.getConnectTimeout().getSeconds()).as("default connectTimeout 2s").isEqualTo(2);
        assertThat(v2.getEdsClusterConfig().getServiceName()).isEqualTo("pool_llama-v2");
    }

    @Test
    void endpoints_carryIpsAndPortsPerPool() throws Exception {
        XdsSnapshot snapshot = TRANSLATOR.translate(load(POOLS + route(90, 10)));

        assertThat(snapshot.resources(ENDPOINT)).containsOnlyKeys("pool_llama-v1", "pool_llama-v2");
        assertThat(snapshot.resource(ENDPOINT, "pool_llama-v1").message()).isEqualTo(parse(ClusterLoadAssignment.newBuilder(), """
                cluster_name: "pool_llama-v1"
                endpoints {
                  lb_endpoints { endpoint { address { socket_address { address: "10.0.0.1" port_value: 8000 } } } }
                  lb_endpoints { endpoint { address { socket_address { address: "10.0.0.2" port_value: 8001 } } } }
                }
                """));
        assertThat(snapshot.resource(ENDPOINT, "pool_llama-v2").message()).isEqualTo(parse(ClusterLoadAssignment.newBuilder(), """
                cluster_name: "pool_llama-v2"
                endpoints { lb_endpoints { endpoint { address { socket_address { address: "10.0.1.1" port_value: 9000 } } } } }
                """));
    }

    /** A headless Service's name is every pod: one endpoint each, for Envoy and the picker; localhost stays one. */
    @Test
    void endpoints_areEveryAddressOfANameInItsFirstFamily() throws Exception {
        XdsSnapshot snapshot = TRANSLATOR.translate(load("""
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: llama-v1}
                spec:
                  endpoints: [llama.models.svc.cluster.local:8000, localhost:9000]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: llama-v2}
                spec:
                  endpoints: ["10.0.1.1:9000"]
                """ + route(1, 0)));

        assertThat(snapshot.resource(ENDPOINT, "pool_llama-v1").message()).isEqualTo(parse(ClusterLoadAssignment.newBuilder(), """
                cluster_name: "pool_llama-v1"
                endpoints {
                  lb_endpoints { endpoint { address { socket_address { address: "10.1.0.1" port_value: 8000 } } } }
                  lb_endpoints { endpoint { address { socket_address { address: "10.1.0.2" port_value: 8000 } } } }
                  lb_endpoints { endpoint { address { socket_address { address: "10.1.0.3" port_value: 8000 } } } }
                  lb_endpoints { endpoint { address { socket_address { address: "127.0.0.1" port_value: 9000 } } } }
                }
                """));
    }

    /**
     * Each model is routed twice, in this order: on the {@code x-aimesh-model} header the ai-filter sets, then on
     * the body's model that json_to_metadata extracts; within each, overrides come before the weighted split.
     */
    @Test
    void routes_overridesThenWeightedSplit_byHeaderThenByBody_thenModelNotFound() throws Exception {
        XdsSnapshot snapshot = TRANSLATOR.translate(load(POOLS + route(90, 10)));

        assertThat(snapshot.resources(ROUTE)).containsOnlyKeys("aimesh_routes");
        String post = "headers { name: \":method\" string_match { exact: \"POST\" } }";
        String byHeader = post + " headers { name: \"x-aimesh-model\" string_match { exact: \"llama-3-8b-instruct\" } }";
        String byBody = post + """
                 dynamic_metadata { filter: "aimesh" path { key: "model" }
                  value { string_match { exact: "llama-3-8b-instruct" } } }""";
        String override = "headers { name: \"x-aimesh-version\" string_match { exact: \"v2\" } }";
        String split = """
                weighted_clusters {
                  clusters { name: "pool_llama-v1" weight { value: 90 }
                    response_headers_to_add { header { key: "x-aimesh-route-version" value: "v1" } } }
                  clusters { name: "pool_llama-v2" weight { value: 10 }
                    response_headers_to_add { header { key: "x-aimesh-route-version" value: "v2" } } }
                }""";
        assertThat(snapshot.resource(ROUTE, "aimesh_routes").message()).isEqualTo(parse(RouteConfiguration.newBuilder(), """
                name: "aimesh_routes"
                internal_only_headers: "x-aimesh-model"
                internal_only_headers: "x-aimesh-pool"
                internal_only_headers: "x-aimesh-tenant"
                internal_only_headers: "x-gateway-destination-endpoint"
                internal_only_headers: "x-aimesh-decision"
                internal_only_headers: "x-aimesh-route-version"
                internal_only_headers: "x-aimesh-shadow"
                virtual_hosts {
                  name: "aimesh"
                  domains: "*"
                  request_headers_to_remove: "authorization"
                  routes {
                    name: "llama/override/x-aimesh-version=v2"
                    match { safe_regex { regex: "/v1/(chat/completions|completions|embeddings)" } %1$s %3$s }
                    route { cluster: "pool_llama-v2" timeout { seconds: 30 } %5$s }
                  }
                  routes {
                    name: "llama"
                    match { safe_regex { regex: "/v1/(chat/completions|completions|embeddings)" } %1$s }
                    route { %4$s timeout { seconds: 30 } %5$s }
                  }
                  routes {
                    name: "llama/body/override/x-aimesh-version=v2"
                    match { safe_regex { regex: "/v1/(chat/completions|completions|embeddings)" } %2$s %3$s }
                    route { cluster: "pool_llama-v2" timeout { seconds: 30 } %5$s }
                  }
                  routes {
                    name: "llama/body"
                    match { safe_regex { regex: "/v1/(chat/completions|completions|embeddings)" } %2$s }
                    route { %4$s timeout { seconds: 30 } %5$s }
                  }
                  routes {
                    name: "method-not-allowed"
                    match { safe_regex { regex: "/v1/(chat/completions|completions|embeddings)" }
                      headers { name: ":method" string_match { exact: "POST" } invert_match: true } }
                    direct_response { status: 405 body { inline_string: "%7$s" } }
                    response_headers_to_add { header { key: "content-type" value: "application/json" } }
                    response_headers_to_add { header { key: "allow" value: "POST" } }
                    typed_per_filter_config { key: "envoy.filters.http.ext_proc" value {
                      [type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute] { disabled: true } } }
                  }
                  routes {
                    name: "model-not-found"
                    match { prefix: "/" }
                    direct_response { status: 404 body { inline_string: "%6$s" } }
                    response_headers_to_add { header { key: "content-type" value: "application/json" } }
                  }
                }
                """.formatted(byHeader, byBody, override, split, RETRY,
                TextFormat.escapeDoubleQuotesAndBackslashes(EnvoyTranslator.MODEL_NOT_FOUND),
                TextFormat.escapeDoubleQuotesAndBackslashes(EnvoyTranslator.METHOD_NOT_ALLOWED))));
    }

    @Test
    void modelNotFoundBody_isOpenAiStyleJsonError() throws Exception {
        JsonNode body = new ObjectMapper().readTree(EnvoyTranslator.MODEL_NOT_FOUND);

        assertThat(body.at("/error/code").asText()).isEqualTo("model_not_found");
        assertThat(body.at("/error/type").asText()).isEqualTo("invalid_request_error");
        assertThat(body.at("/error/param").asText()).isEqualTo("model");
    }

    @Test
    void methodNotAllowedBody_isOpenAiStyleJsonError() throws Exception {
        JsonNode body = new ObjectMapper().readTree(EnvoyTranslator.METHOD_NOT_ALLOWED);

        assertThat(body.at("/error/code").asText()).isEqualTo("method_not_allowed");
        assertThat(body.at("/error/type").asText()).isEqualTo("invalid_request_error");
    }

    @Test
    void weightedSplit_omitsZeroWeightVersions_whichStayReachableByOverride() throws Exception {
        XdsSnapshot snapshot = TRANSLATOR.translate(load(POOLS + route(100, 0)));

        List<Route> routes = routes(snapshot);
        List<Route> weighted = routes.stream().filter(r -> r.getRoute().hasWeightedClusters()).toList();
        List<Route> overrides = routes.stream().filter(r -> r.getName().contains("/override/")).toList();
        assertThat(weighted).isNotEmpty().allSatisfy(r -> assertThat(r.getRoute().getWeightedClusters().getClustersList())
                .extracting(WeightedCluster.ClusterWeight::getName).containsExactly("pool_llama-v1"));
        assertThat(overrides).isNotEmpty()
                .allSatisfy(r -> assertThat(r.getRoute().getCluster()).isEqualTo("pool_llama-v2"));
    }

    @Test
    void routes_keepPolicyOrderPerModel_withModelNotFoundLast() throws Exception {
        String second = """
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: mistral}
                spec:
                  model: mistral-7b
                  versions:
                    - {name: only, pool: llama-v2, weight: 1}
                  overrides:
                    - {header: x-debug, value: "1", version: only}
                  timeout: 0s
                """;

        XdsSnapshot snapshot = TRANSLATOR.translate(load(POOLS + route(90, 10) + second));

        List<String> names = routes(snapshot).stream().map(Route::getName).toList();
        assertThat(names).containsSubsequence("llama/override/x-aimesh-version=v2", "llama", "mistral/override/x-debug=1",
                "mistral", "method-not-allowed", "model-not-found");
        assertThat(names).last().isEqualTo("model-not-found");
        Route mistral = routes(snapshot).stream().filter(r -> r.getName().equals("mistral")).findFirst().orElseThrow();
        assertThat(mistral.getMatch().getHeadersList()).extracting(h -> h.getName() + "=" + h.getStringMatch().getExact())
                .containsExactly(":method=POST", "x-aimesh-model=mistral-7b");
        assertThat(mistral.getRoute().hasTimeout()).isTrue();
        assertThat(mistral.getRoute().getTimeout().getSeconds()).as("0s disables the timeout").isZero();
    }

    @Test
    void listener_bindsConfiguredAddressAndPort_andTakesRoutesFromAds() throws Exception {
        XdsSnapshot snapshot = new EnvoyTranslator("0.0.0.0", 18080).translate(load(POOLS + route(90, 10)));

        assertThat(snapshot.resources(LISTENER)).containsOnlyKeys("aimesh_http");
        Listener listener = (Listener) snapshot.resource(LISTENER, "aimesh_http").message();
        assertThat(listener.getAddress()).isEqualTo(parse(io.envoyproxy.envoy.config.core.v3.Address.newBuilder(),
                "socket_address { address: \"0.0.0.0\" port_value: 18080 }"));
        assertThat(listener.getFilterChainsList()).hasSize(1);
        Filter filter = listener.getFilterChains(0).getFilters(0);
        assertThat(filter.getName()).isEqualTo("envoy.filters.network.http_connection_manager");
        HttpConnectionManager hcm = filter.getTypedConfig().unpack(HttpConnectionManager.class);
        assertThat(hcm.getRds()).isEqualTo(parse(Rds.newBuilder(),
                "config_source { %s } route_config_name: \"aimesh_routes\"".formatted(ADS)));
        // Without a Gateway there is no ext_proc filter: the body's model is read by json_to_metadata alone.
        assertThat(hcm.getHttpFiltersList()).extracting(HttpFilter::getName).containsExactly(
                EnvoyTranslator.STRIP_FILTER, "envoy.filters.http.json_to_metadata", "envoy.filters.http.router");
        assertThat(hcm.getHttpFilters(2).getTypedConfig().is(Router.class)).isTrue();
    }

    @Test
    void listener_trustsNoClientAddress_normalizesPaths_andStripsInternalHeadersFirst() throws Exception {
        XdsSnapshot snapshot = TRANSLATOR.translate(load(POOLS + route(90, 10)));

        HttpConnectionManager hcm = hcm(snapshot);
        assertThat(hcm.getUseRemoteAddress().getValue()).isTrue();
        assertThat(hcm.getXffNumTrustedHops()).isZero();
        assertThat(hcm.hasInternalAddressConfig()).as("an absent config lets Envoy pick its own defaults").isTrue();
        assertThat(hcm.getInternalAddressConfig().getUnixSockets()).isFalse();
        assertThat(hcm.getInternalAddressConfig().getCidrRangesList()).isEmpty();
        assertThat(hcm.getNormalizePath().getValue()).isTrue();
        assertThat(hcm.getMergeSlashes()).isTrue();
        assertThat(hcm.getPathWithEscapedSlashesAction())
                .isEqualTo(HttpConnectionManager.PathWithEscapedSlashesAction.REJECT_REQUEST);
        assertThat(hcm.getCommonHttpProtocolOptions().getHeadersWithUnderscoresAction())
                .isEqualTo(io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.HeadersWithUnderscoresAction.DROP_HEADER);
        HttpFilter first = hcm.getHttpFilters(0);
        assertThat(first.getName()).isEqualTo(EnvoyTranslator.STRIP_FILTER);
        assertThat(first.getTypedConfig().unpack(HeaderMutation.class).getMutations().getRequestMutationsList())
                .extracting(mutation -> mutation.getRemove()).containsExactlyElementsOf(WireContract.INTERNAL_HEADERS);
    }

    @Test
    void trustedCidrs_becomeTheOnlyInternalAddresses() throws Exception {
        String gateway = """
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  trustedCidrs: ["10.1.0.0/16", "fd00:0::/8"]
                """;
        HttpConnectionManager hcm = hcm(TRANSLATOR.translate(load(POOLS + route(90, 10) + gateway)));

        assertThat(hcm.getInternalAddressConfig()).isEqualTo(parse(HttpConnectionManager.InternalAddressConfig.newBuilder(), """
                cidr_ranges { address_prefix: "10.1.0.0" prefix_len { value: 16 } }
                cidr_ranges { address_prefix: "fd00:0:0:0:0:0:0:0" prefix_len { value: 8 } }"""));
    }

    @Test
    void jwksFile_withASymmetricKey_isRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path jwks = java.nio.file.Files.writeString(dir.resolve("jwks.json"),
                "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}");
        String gateway = """
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  identity:
                    jwt: {issuer: https://issuer.example, audiences: [aimesh], jwksFile: %s}
                """.formatted(jwks);

        assertThatThrownBy(() -> TRANSLATOR.translate(load(POOLS + route(90, 10) + gateway)))
                .isInstanceOf(TranslationException.class)
                .hasMessageContaining(jwks.toString()).hasMessageContaining("symmetric key");
    }

    private static HttpConnectionManager hcm(XdsSnapshot snapshot) throws Exception {
        Listener listener = (Listener) snapshot.resource(LISTENER, "aimesh_http").message();
        return listener.getFilterChains(0).getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
    }

    @Test
    void gateway_putsExtProcBeforeTheRouter_withoutResponseHeaders_andRoutesAddItsRateLimitHeaders() throws Exception {
        String gateway = """
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  filter: {address: "127.0.0.1:18080", failureMode: open, messageTimeout: 300ms}
                """;
        XdsSnapshot snapshot = TRANSLATOR.translate(load(POOLS + route(90, 10) + gateway));

        Listener listener = (Listener) snapshot.resource(LISTENER, "aimesh_http").message();
        HttpConnectionManager hcm = listener.getFilterChains(0).getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
        assertThat(hcm.getHttpFiltersList()).extracting(HttpFilter::getName).containsExactly(EnvoyTranslator.STRIP_FILTER,
                "envoy.filters.http.ext_proc", "envoy.filters.http.json_to_metadata", "envoy.filters.http.router");
        // One message each way fewer than with response headers: the filter answers those at admission.
        assertThat(hcm.getHttpFilters(1).getTypedConfig().unpack(ExternalProcessor.class)).isEqualTo(parse(
                ExternalProcessor.newBuilder(), """
                        grpc_service { envoy_grpc { cluster_name: "aimesh_filter" } }
                        failure_mode_allow: true
                        processing_mode {
                          request_header_mode: SEND response_header_mode: SKIP
                          request_body_mode: BUFFERED response_body_mode: STREAMED
                          request_trailer_mode: SKIP response_trailer_mode: SKIP
                        }
                        message_timeout { nanos: 300000000 }
                        send_body_without_waiting_for_header_response: true
                        response_attributes: "response.code" response_attributes: "xds.cluster_name"
                        metadata_options { receiving_namespaces { untyped: "aimesh" untyped: "envoy.lb" } }"""));
        RouteConfiguration routes = (RouteConfiguration) snapshot.resource(ROUTE, "aimesh_routes").message();
        assertThat(routes.getResponseHeadersToAddList()).extracting(option -> option.getHeader().getKey() + ": "
                + option.getHeader().getValue()).containsExactly(
                "x-aimesh-decision: %DYNAMIC_METADATA(aimesh:x-aimesh-decision)%",
                "x-ratelimit-limit-tokens: %DYNAMIC_METADATA(aimesh:x-ratelimit-limit-tokens)%",
                "x-ratelimit-remaining-tokens: %DYNAMIC_METADATA(aimesh:x-ratelimit-remaining-tokens)%",
                "x-ratelimit-reset-tokens: %DYNAMIC_METADATA(aimesh:x-ratelimit-reset-tokens)%",
                "x-ratelimit-limit-requests: %DYNAMIC_METADATA(aimesh:x-ratelimit-limit-requests)%",
                "x-ratelimit-remaining-requests: %DYNAMIC_METADATA(aimesh:x-ratelimit-remaining-requests)%",
                "x-ratelimit-reset-requests: %DYNAMIC_METADATA(aimesh:x-ratelimit-reset-requests)%",
                "x-aimesh-budget-remaining: %DYNAMIC_METADATA(aimesh:x-aimesh-budget-remaining)%",
                "x-aimesh-budget-reset: %DYNAMIC_METADATA(aimesh:x-aimesh-budget-reset)%");
    }

    @Test
    void pickerPool_overridesTheHostWithinItsEdsCluster_andRoutesOnThePoolTheFilterChose() throws Exception {
        String policies = """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: llama-v1}
                spec:
                  endpoints: ["10.0.0.1:8000", "10.0.0.2:8001"]
                  connectTimeout: 250ms
                  balancing: {mode: picker, metricsInterval: 100ms, scorers: {prefixAffinity: 0}, maxQueue: 8}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: llama-v2}
                spec:
                  endpoints: ["10.0.1.1:9000"]
                  balancing: {mode: least-request}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  filter: {address: "127.0.0.1:18080"}
                """ + route(90, 10);
        XdsSnapshot snapshot = TRANSLATOR.translate(load(policies));

        // No ORIGINAL_DST cluster: the picked endpoint is looked up among the pool's EDS members only.
        assertThat(snapshot.resources(CLUSTER)).containsOnlyKeys("pool_llama-v1", "pool_llama-v2", "aimesh_filter");
        Cluster picker = (Cluster) snapshot.resource(CLUSTER, "pool_llama-v1").message();
        assertThat(picker.getType()).isEqualTo(Cluster.DiscoveryType.EDS);
        var policy = picker.getLoadBalancingPolicy().getPolicies(0).getTypedExtensionConfig();
        assertThat(policy.getName()).isEqualTo("envoy.load_balancing_policies.override_host");
        TypedStruct override = policy.getTypedConfig().unpack(TypedStruct.class);
        assertThat(override.getTypeUrl()).isEqualTo(EnvoyTranslator.OVERRIDE_HOST_TYPE);
        assertThat(JsonFormat.printer().omittingInsignificantWhitespace().print(override.getValue())).isEqualTo(
                "{\"override_host_sources\":[{\"header\":\"x-gateway-destination-endpoint\"},"
                        + "{\"metadata\":{\"key\":\"envoy.lb\",\"path\":[{\"key\":\"x-gateway-destination-endpoint\"}]}}],"
                        + "\"fallback_policy\":{\"policies\":[{\"typed_extension_config\":{"
                        + "\"name\":\"envoy.load_balancing_policies.least_request\",\"typed_config\":{\"@type\":"
                        + "\"type.googleapis.com/envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest\"}}}]}}");
        assertThat(((Cluster) snapshot.resource(CLUSTER, "pool_llama-v2").message()).getLbPolicy())
                .isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);

        RouteConfiguration routes = (RouteConfiguration) snapshot.resource(ROUTE, "aimesh_routes").message();
        assertThat(routes.getInternalOnlyHeadersList()).containsExactlyElementsOf(WireContract.INTERNAL_HEADERS);
        List<Route> list = routes.getVirtualHosts(0).getRoutesList();
        assertThat(list.get(0)).isEqualTo(parse(Route.newBuilder(), """
                name: "llama/pool/v1"
                match { safe_regex { regex: "/v1/(chat/completions|completions|embeddings)" }
                  headers { name: ":method" string_match { exact: "POST" } }
                  headers { name: "x-aimesh-model" string_match { exact: "llama-3-8b-instruct" } }
                  headers { name: "x-aimesh-pool" string_match { exact: "llama-v1" } } }
                route { cluster: "pool_llama-v1" timeout { seconds: 30 } %s }
                response_headers_to_add { header { key: "x-aimesh-route-version" value: "v1" } }""".formatted(RETRY)));
        assertThat(list.get(1).getMatch().getHeadersList()).extracting(h -> h.getName())
                .containsExactly(":method", "x-aimesh-model", "x-aimesh-pool");
        assertThat(list.get(1).getRoute().getCluster()).isEqualTo("pool_llama-v2");
        assertThat(list.get(2).getName()).isEqualTo("llama/override/x-aimesh-version=v2");

        FilterConfig filter = (FilterConfig) snapshot.resource(ResourceType.FILTER, "aimesh").message();
        assertThat(filter).isEqualTo(filter.toBuilder().clearPools().clearModels()
                .addPools((Pool) parse(Pool.newBuilder(), """
                        name: "llama-v1" endpoints: "10.0.0.1:8000" endpoints: "10.0.0.2:8001"
                        metrics_path: "/metrics" metrics_interval_ms: 100
                        scorers { queue: 1 kv_cache: 1 in_flight: 1 prefix_affinity: 0 lora_affinity: 1 }
                        max_queue: 8 max_kv_cache_percent: 80 retry_after_seconds: 1 queue_size: 100 queue_timeout_ms: 5000"""))
                .addModels((Model) parse(Model.newBuilder(), """
                        name: "llama-3-8b-instruct" tokenizer: "cl100k_base" default_max_tokens: 1024
                        versions { name: "v1" pool: "llama-v1" weight: 90 }
                        versions { name: "v2" pool: "llama-v2" weight: 10 }
                        overrides { header: "x-aimesh-version" value: "v2" version: "v2" }"""))
                .build());
    }

    @Test
    void dedicatedPool_isReachedOnlyThroughTheFiltersPoolHeader() throws Exception {
        String policies = POOLS.replace("""
                metadata: {name: llama-v2}
                spec:
                """, """
                metadata: {name: llama-v2}
                spec:
                  dedicatedTo: {tenants: [acme]}
                """) + """
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  filter: {address: "127.0.0.1:18080"}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: acme}
                spec:
                  identity: {apiKeys: [{sha256: "sha256:8676d15d94dabdd1283e6c407e2bb08a7b5c13b4e3667d4795c17172e080a3d4"}]}
                """ + route(90, 10);
        XdsSnapshot snapshot = TRANSLATOR.translate(load(policies));

        RouteConfiguration routes = (RouteConfiguration) snapshot.resource(ROUTE, "aimesh_routes").message();
        List<Route> list = routes.getVirtualHosts(0).getRoutesList();
        // The filter fails closed: every request reaching the router carries its model header, so
        // there is no route on the body's model.
        assertThat(list).extracting(Route::getName).containsExactly("llama/pool/v1", "llama/pool/v2", "llama",
                "method-not-allowed", "model-not-found");
        assertThat(list.get(1).getRoute().getCluster()).isEqualTo("pool_llama-v2");
        // Envoy's own route, for a request the filter set no pool for, leaves the dedicated pool out: its
        // share of the split.
        for (Route route : list.subList(2, 3)) {
            assertThat(route.getRoute().getWeightedClusters().getClustersList()).extracting(c -> c.getName())
                    .containsExactly("pool_llama-v1");
        }
        FilterConfig filter = (FilterConfig) snapshot.resource(ResourceType.FILTER, "aimesh").message();
        assertThat(filter.getModels(0).getVersions(1).getDedicatedTenantsList()).containsExactly("acme");
        assertThat(filter.getModels(0).getVersions(0).getDedicatedTenantsList()).isEmpty();
    }

    @Test
    void jwtIdentity_putsJwtAuthnBeforeTheFilter_andForwardsTheVerifiedPayload() throws Exception {
        String policies = POOLS + route(90, 10) + """
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  filter: {address: "127.0.0.1:18080"}
                  identity:
                    jwt: {issuer: https://issuer.example, audiences: [aimesh], jwksFile: /etc/aimesh/jwks.json,
                          tenantClaim: org.tenant}
                """;
        XdsSnapshot snapshot = TRANSLATOR.translate(load(policies));

        Listener listener = (Listener) snapshot.resource(LISTENER, "aimesh_http").message();
        HttpConnectionManager hcm = listener.getFilterChains(0).getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
        // Failing closed, the filter reads every body: Envoy parses none itself (no json_to_metadata).
        assertThat(hcm.getHttpFiltersList()).extracting(HttpFilter::getName).containsExactly(EnvoyTranslator.STRIP_FILTER,
                "envoy.filters.http.jwt_authn", "envoy.filters.http.ext_proc", "envoy.filters.http.router");
        assertThat(hcm.getHttpFilters(1).getTypedConfig().unpack(JwtAuthentication.class)).isEqualTo(parse(
                JwtAuthentication.newBuilder(), """
                        providers { key: "aimesh" value {
                          issuer: "https://issuer.example" audiences: "aimesh"
                          local_jwks { filename: "/etc/aimesh/jwks.json" }
                          from_headers { name: "authorization" value_prefix: "Bearer " }
                          payload_in_metadata: "jwt_payload"
                          clock_skew_seconds: 60 } }
                        rules { match { prefix: "/" }
                          requires { requires_any {
                            requirements { provider_name: "aimesh" }
                            requirements { allow_missing {} } } } }"""));
        ExternalProcessor extProc = hcm.getHttpFilters(2).getTypedConfig().unpack(ExternalProcessor.class);
        assertThat(extProc.getMetadataOptions().getForwardingNamespaces().getUntypedList())
                .containsExactly("envoy.filters.http.jwt_authn");
        FilterConfig filter = (FilterConfig) snapshot.resource(ResourceType.FILTER, "aimesh").message();
        assertThat(filter.getSettings().getJwtTenantClaim()).isEqualTo("org.tenant");
    }

    @Test
    void orcaPool_getsClientSideWeightedRoundRobin_onHeaderLoadReports() throws Exception {
        String pools = POOLS.replace("  connectTimeout: 250ms\n", "  connectTimeout: 250ms\n  balancing: {mode: orca}\n");
        Cluster cluster = (Cluster) TRANSLATOR.translate(load(pools + route(90, 10))).resource(CLUSTER, "pool_llama-v1").message();

        assertThat(cluster.getLbPolicy()).isEqualTo(Cluster.LbPolicy.ROUND_ROBIN); // the default: unset
        var policy = cluster.getLoadBalancingPolicy().getPolicies(0).getTypedExtensionConfig();
        assertThat(policy.getName()).isEqualTo("envoy.load_balancing_policies.client_side_weighted_round_robin");
        assertThat(policy.getTypedConfig().unpack(ClientSideWeightedRoundRobin.class)).isEqualTo(parse(
                ClientSideWeightedRoundRobin.newBuilder(), """
                        enable_oob_load_report { value: false }
                        blackout_period { seconds: 1 }
                        weight_update_period { seconds: 1 }"""));
    }

    @Test
    void edsWeights_setTheEndpointsLoadBalancingWeight_andChangeOnlyThatPoolsAssignment() throws Exception {
        PolicySet policies = load(POOLS.replace("  connectTimeout: 250ms\n", "  connectTimeout: 250ms\n  balancing: {mode: eds-weights}\n")
                + route(90, 10));
        XdsSnapshot plain = TRANSLATOR.translate(policies);
        XdsSnapshot weighted = TRANSLATOR.translate(policies, EndpointWeights.of(Map.of("llama-v1", Map.of("10.0.0.1:8000", 7))));

        ClusterLoadAssignment assignment = (ClusterLoadAssignment) weighted.resource(ENDPOINT, "pool_llama-v1").message();
        assertThat(assignment.getEndpoints(0).getLbEndpointsList()).extracting(e -> e.getLoadBalancingWeight().getValue())
                .containsExactly(7, 0);
        assertThat(((Cluster) weighted.resource(CLUSTER, "pool_llama-v1").message()).getLbPolicy())
                .isEqualTo(Cluster.LbPolicy.ROUND_ROBIN);
        assertThat(weighted.resource(ENDPOINT, "pool_llama-v1").version())
                .isNotEqualTo(plain.resource(ENDPOINT, "pool_llama-v1").version());
        assertThat(weighted.resource(ENDPOINT, "pool_llama-v2").version())
                .isEqualTo(plain.resource(ENDPOINT, "pool_llama-v2").version());
        assertThat(weighted.resource(CLUSTER, "pool_llama-v1").version())
                .isEqualTo(plain.resource(CLUSTER, "pool_llama-v1").version());
    }

    @Test
    void translatingSamePoliciesTwice_yieldsIdenticalVersions() throws Exception {
        XdsSnapshot first = TRANSLATOR.translate(load(POOLS + route(90, 10)));
        XdsSnapshot second = new EnvoyTranslator("127.0.0.1", 10000).translate(load(POOLS + route(90, 10)));

        assertThat(second.version()).isEqualTo(first.version());
        for (var type : io.aimesh.xds.snapshot.ResourceType.values()) {
            assertThat(second.version(type)).as(type.name()).isEqualTo(first.version(type));
        }
        assertThat(second.resource(ROUTE, "aimesh_routes").packed()).isEqualTo(first.resource(ROUTE, "aimesh_routes").packed());
    }

    @Test
    void weightChange_changesRouteVersion_notClustersEndpointsOrListener() throws Exception {
        XdsSnapshot before = TRANSLATOR.translate(load(POOLS + route(90, 10)));
        XdsSnapshot after = TRANSLATOR.translate(load(POOLS + route(80, 20)));

        assertThat(after.version(ROUTE)).isNotEqualTo(before.version(ROUTE));
        assertThat(after.version(CLUSTER)).isEqualTo(before.version(CLUSTER));
        assertThat(after.version(ENDPOINT)).isEqualTo(before.version(ENDPOINT));
        assertThat(after.version(LISTENER)).isEqualTo(before.version(LISTENER));
        assertThat(after.version()).isNotEqualTo(before.version());
    }

    @Test
    void endpointChange_changesOnlyThatPoolsAssignment() throws Exception {
        XdsSnapshot before = TRANSLATOR.translate(load(POOLS + route(90, 10)));
        XdsSnapshot after = TRANSLATOR.translate(load(POOLS.replace("10.0.1.1:9000", "10.0.1.1:9001") + route(90, 10)));

        assertThat(after.resource(ENDPOINT, "pool_llama-v2").version())
                .isNotEqualTo(before.resource(ENDPOINT, "pool_llama-v2").version());
        assertThat(after.resource(ENDPOINT, "pool_llama-v1").version())
                .isEqualTo(before.resource(ENDPOINT, "pool_llama-v1").version());
        assertThat(after.version(CLUSTER)).isEqualTo(before.version(CLUSTER));
        assertThat(after.version(ROUTE)).isEqualTo(before.version(ROUTE));
    }

    @Test
    void hostNameEndpoint_isResolvedToAnIpAddress() throws Exception {
        XdsSnapshot snapshot = TRANSLATOR.translate(load(POOLS.replace("10.0.1.1:9000", "localhost:9000") + route(90, 10)));

        ClusterLoadAssignment assignment = (ClusterLoadAssignment) snapshot.resource(ENDPOINT, "pool_llama-v2").message();
        var address = assignment.getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress().getSocketAddress();
        assertThat(address.getAddress()).isIn("127.0.0.1", "::1", "0:0:0:0:0:0:0:1");
        assertThat(address.getPortValue()).isEqualTo(9000);
    }

    @Test
    void unresolvableHost_failsWithPoolAndHostInMessage() {
        PolicySet policies = load(POOLS.replace("10.0.1.1:9000", "no-such-host.invalid:9000") + route(90, 10));

        assertThatThrownBy(() -> TRANSLATOR.translate(policies))
                .isInstanceOf(TranslationException.class)
                .hasMessageContaining("InferencePool/llama-v2")
                .hasMessageContaining("'no-such-host.invalid'");
    }

    @Test
    void listenPortOutOfRange_isRejected() {
        assertThatThrownBy(() -> new EnvoyTranslator("0.0.0.0", 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("listenPort: 0 (expected: 1..65535)");
    }

    private static List<Route> routes(XdsSnapshot snapshot) {
        RouteConfiguration config = (RouteConfiguration) snapshot.resource(ROUTE, "aimesh_routes").message();
        assertThat(config.getVirtualHostsList()).hasSize(1);
        return config.getVirtualHosts(0).getRoutesList();
    }

    private static String route(int v1Weight, int v2Weight) {
        return """
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: llama}
                spec:
                  model: llama-3-8b-instruct
                  versions:
                    - {name: v1, pool: llama-v1, weight: %d}
                    - {name: v2, pool: llama-v2, weight: %d}
                  overrides:
                    - {header: x-aimesh-version, value: v2, version: v2}
                  timeout: 30s
                """.formatted(v1Weight, v2Weight);
    }

    private static PolicySet load(String yaml) {
        LoadResult result = PolicyLoader.load(Map.of("p.yaml", yaml));
        assertThat(result.errors()).as("policy errors").isEmpty();
        return result.policies();
    }

    /** The Any types the expected texts spell out. */
    private static final TextFormat.Parser PARSER = TextFormat.Parser.newBuilder()
            .setTypeRegistry(com.google.protobuf.TypeRegistry.newBuilder()
                    .add(io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute.getDescriptor()).build())
            .build();

    private static Message parse(Message.Builder builder, String text) throws TextFormat.ParseException {
        PARSER.merge(text, builder);
        return builder.build();
    }
}
