package io.aimesh.filter.it;

import static org.awaitility.Awaitility.await;

import io.aimesh.filter.AiFilter;
import io.aimesh.filter.AiFilterOptions;
import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import io.aimesh.xds.EnvoyProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real data path for the filter's end-to-end tests: model-sim instances, the control plane
 * on a policy directory with a Gateway that puts the filter in the path, the ai-filter
 * itself, and one Envoy.
 */
final class FilterMesh implements AutoCloseable {
    static final String MODEL = "llama";
    /** A model whose one endpoint listens nowhere: Envoy answers 503 for it. */
    static final String DEAD_MODEL = "dead-model";
    static final String ACME_KEY = "acme-test-key";
    static final String GLOBEX_KEY = "globex-test-key";

    final Path policies;
    final int listenerPort;
    final int filterPort;
    /** A port bound but not listening, so connecting is refused: the endpoint of {@link #DEAD_MODEL}. */
    final int deadPort;
    private final Socket deadSocket = new Socket();
    /**
     * Holds the filter's port from the start until the filter binds it: the port is in the policy
     * long before, and a port merely found free could meanwhile become some client's ephemeral port.
     */
    private ServerSocket filterPortHold;
    final List<ModelSimServer> sims = new ArrayList<>();
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private String messageTimeout;
    private String gatewayIdentity;
    private long maxRequestBytes = 65536;
    /** More fields of the Gateway's spec, as YAML lines indented by two spaces (e.g. trustedCidrs). */
    private String gatewaySpec = "";
    ControlPlane controlPlane;
    AiFilter filter;
    EnvoyProcess envoy;

    private FilterMesh() throws IOException {
        policies = Files.createTempDirectory("aimesh-filter-policies-");
        listenerPort = freePort();
        filterPortHold = new ServerSocket();
        filterPortHold.setReuseAddress(true);
        filterPortHold.bind(new InetSocketAddress("127.0.0.1", 0));
        filterPort = filterPortHold.getLocalPort();
        deadSocket.bind(new InetSocketAddress("127.0.0.1", 0));
        deadPort = deadSocket.getLocalPort();
    }

    /**
     * @param failureMode {@code open} or {@code closed}
     * @param acmeTokensPerMinute acme's total-token limit per minute
     */
    static FilterMesh start(String failureMode, long acmeTokensPerMinute) throws IOException {
        return start(failureMode, acmeTokensPerMinute, "finish", 256);
    }

    /**
     * @param streamOverrun {@code finish} or {@code cut}
     * @param defaultMaxTokens what the filter reserves for a request without max_tokens
     */
    static FilterMesh start(String failureMode, long acmeTokensPerMinute, String streamOverrun, int defaultMaxTokens)
            throws IOException {
        return start(failureMode, acmeTokensPerMinute, streamOverrun, defaultMaxTokens, "");
    }

    /** As above, with {@code extraPolicies} (YAML documents) added to the standard ones. */
    static FilterMesh start(String failureMode, long acmeTokensPerMinute, String streamOverrun, int defaultMaxTokens,
                            String extraPolicies) throws IOException {
        return start(failureMode, acmeTokensPerMinute, streamOverrun, defaultMaxTokens, extraPolicies, "2s", "");
    }

    /**
     * As above, with Envoy's ext_proc {@code messageTimeout} and {@code gatewayIdentity}, the
     * Gateway's {@code spec.identity} as a YAML flow mapping (empty for none).
     */
    static FilterMesh start(String failureMode, long acmeTokensPerMinute, String streamOverrun, int defaultMaxTokens,
                            String extraPolicies, String messageTimeout, String gatewayIdentity) throws IOException {
        return start(new FilterMesh(), failureMode, acmeTokensPerMinute, streamOverrun, defaultMaxTokens, extraPolicies,
                messageTimeout, gatewayIdentity);
    }

    /**
     * The standard mesh with the filter's {@code maxRequestBytes}, {@code gatewaySpec} (more Gateway spec
     * fields as YAML lines indented by two spaces, or empty) and {@code extraPolicies}.
     */
    static FilterMesh start(String failureMode, long maxRequestBytes, String gatewaySpec, String extraPolicies)
            throws IOException {
        FilterMesh mesh = new FilterMesh();
        mesh.maxRequestBytes = maxRequestBytes;
        mesh.gatewaySpec = gatewaySpec;
        return start(mesh, failureMode, 1_000_000, "finish", 256, extraPolicies, "2s", "");
    }

    private static FilterMesh start(FilterMesh mesh, String failureMode, long acmeTokensPerMinute, String streamOverrun,
                                    int defaultMaxTokens, String extraPolicies, String messageTimeout, String gatewayIdentity)
            throws IOException {
        mesh.messageTimeout = messageTimeout;
        mesh.gatewayIdentity = gatewayIdentity.isEmpty() ? "{trustedHop: true}" : gatewayIdentity;
        try {
            for (int i = 0; i < 2; i++) {
                mesh.sims.add(ModelSimServer.start(ModelSimConfig.builder().port(0).model(MODEL).version("v1")
                        .speed(20).maxSeqs(64).kvTokens(1 << 20).seed(i + 1).build()));
            }
            Files.writeString(mesh.policies.resolve("policies.yaml"), mesh.policy(failureMode, acmeTokensPerMinute, streamOverrun,
                    defaultMaxTokens) + (extraPolicies.isEmpty() ? "" : "---\n" + extraPolicies));
            mesh.controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(mesh.policies)
                    .withXds("127.0.0.1", 0).withAdmin("127.0.0.1", 0).withListener("127.0.0.1", mesh.listenerPort));
            mesh.startFilter();
            mesh.envoy = EnvoyProcess.start("filter-test-" + mesh.listenerPort, mesh.controlPlane.xdsPort(), false);
            await().atMost(Duration.ofSeconds(30)).until(() -> mesh.chat(GLOBEX_KEY, false, 2, Map.of()).statusCode() == 200);
            return mesh;
        } catch (IOException | RuntimeException e) {
            mesh.close();
            throw e;
        }
    }

    void startFilter() throws IOException {
        if (filterPortHold != null) {
            filterPortHold.close();
            filterPortHold = null;
        }
        filter = AiFilter.start(new AiFilterOptions("127.0.0.1:" + controlPlane.xdsPort(), "filter-" + filterPort,
                "127.0.0.1", filterPort, "127.0.0.1", 0));
        await().atMost(Duration.ofSeconds(10)).until(() -> filter.configVersion() != null);
    }

    void stopFilter() {
        filter.close();
        filter = null;
    }

    private String policy(String failureMode, long acmeTokensPerMinute, String streamOverrun, int defaultMaxTokens) {
        return """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  filter:
                    address: 127.0.0.1:%1$d
                    failureMode: %2$s
                    messageTimeout: %13$s
                    maxRequestBytes: %15$d
                    streamOverrun: %9$s
                  identity: %14$s
                %16$s---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: llama-v1}
                spec:
                  endpoints: ["127.0.0.1:%3$d", "127.0.0.1:%4$d"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: llama}
                spec:
                  model: %5$s
                  versions: [{name: v1, pool: llama-v1, weight: 1}]
                  tokenizer: approximate
                  defaultMaxTokens: %10$d
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: acme}
                spec:
                  identity:
                    apiKeys: [{sha256: "sha256:%6$s"}]
                  limits:
                    - {window: 1m, tokens: %7$d, count: total}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: globex}
                spec:
                  identity:
                    apiKeys: [{sha256: "sha256:%8$s"}]
                  limits:
                    - {window: 1m, tokens: 100000000, count: total}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: initech}
                spec:
                  identity:
                    header: {name: x-tenant, value: initech}
                  allowedModels: [other-model]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: other}
                spec:
                  endpoints: ["127.0.0.1:%3$d"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: other}
                spec:
                  model: other-model
                  versions: [{name: v1, pool: other, weight: 1}]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: dead}
                spec:
                  endpoints: ["127.0.0.1:%11$d"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: dead}
                spec:
                  model: %12$s
                  versions: [{name: v1, pool: dead, weight: 1}]
                  tokenizer: approximate
                """.formatted(filterPort, failureMode, sims.get(0).port(), sims.get(1).port(), MODEL,
                sha256(ACME_KEY), acmeTokensPerMinute, sha256(GLOBEX_KEY), streamOverrun, defaultMaxTokens, deadPort, DEAD_MODEL,
                messageTimeout, gatewayIdentity, maxRequestBytes, gatewaySpec.isEmpty() ? "" : gatewaySpec.stripTrailing() + "\n");
    }

    /** Sends a chat completion for {@link #MODEL}; {@code maxTokens <= 0} sends none. */
    HttpResponse<String> chat(String apiKey, boolean stream, int maxTokens, Map<String, String> headers) {
        String body = "{\"model\":\"" + MODEL + "\"," + (maxTokens > 0 ? "\"max_tokens\":" + maxTokens + "," : "")
                + (stream ? "\"stream\":true," : "")
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Write a haiku about rate limits and GPUs.\"}]}";
        return post("/v1/chat/completions", apiKey, body, headers);
    }

    HttpResponse<String> post(String path, String apiKey, String body, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + listenerPort + path))
                .timeout(Duration.ofSeconds(20))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (apiKey != null) {
            request.header("authorization", "Bearer " + apiKey);
        }
        headers.forEach(request::header);
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String sha256(String key) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() throws IOException {
        if (envoy != null) {
            envoy.close();
        }
        if (filter != null) {
            filter.close();
        }
        if (controlPlane != null) {
            controlPlane.close();
        }
        for (ModelSimServer sim : sims) {
            sim.close();
        }
        deadSocket.close();
        if (filterPortHold != null) {
            filterPortHold.close();
        }
    }
}
