package io.aimesh.testing;

import static org.awaitility.Awaitility.await;

import io.aimesh.filter.AiFilter;
import io.aimesh.filter.AiFilterOptions;
import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real mesh for integration tests: model-sims serving {@link #MODEL} (v1, and v2 for a canary),
 * a policy directory naming them, the control plane, optionally the ai-filter in the path, and
 * one Envoy. Built by {@link #builder()}:
 * <pre>{@code
 * try (Mesh mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(1_000).start()) {
 *     HttpResponse<String> answer = mesh.chat(Mesh.ACME_KEY, false, 20, Map.of());
 * }
 * }</pre>
 *
 * <p>The policy directory holds {@code pools.yaml} ({@link #pools}), {@code routes.yaml}
 * ({@link #route}), with the filter {@code gateway.yaml} (the Gateway, tenants acme, globex and
 * initech, a model only initech may use and {@link #DEAD_MODEL}), and {@code extra.yaml} for the
 * builder's extra policies. Tests edit them live with {@link #writePolicy}.
 *
 * <p>Ports are {@linkplain Ports held} until what binds them starts: Envoy's listener port (in the
 * policies long before Envoy gets it over xDS) and the filter's port (in the Gateway policy).
 * Not thread-safe, except the request methods ({@link #chat}, {@link #post}, {@link #traffic}).
 */
public final class Mesh implements AutoCloseable {
    public static final String MODEL = "llama";
    /** A model whose one endpoint refuses connections: Envoy answers 503 for it (filter meshes only). */
    public static final String DEAD_MODEL = "dead-model";
    /** Tenant acme's API key (filter meshes); its token limit is the builder's {@code acmeTokensPerMinute}. */
    public static final String ACME_KEY = "acme-test-key";
    /** Tenant globex's API key (filter meshes); its limit is high enough never to matter. */
    public static final String GLOBEX_KEY = "globex-test-key";

    private final MeshBuilder config;
    private final Path policies;
    private final Ports.Held listenerPort;
    private final Ports.Held filterPort;
    /** Bound but not listening, so connecting is refused: the endpoint of {@link #DEAD_MODEL}. */
    private final Socket deadSocket = new Socket();
    private final List<ModelSimServer> sims = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private ControlPlane controlPlane;
    private int xdsPort;
    private AiFilter filter;
    private Envoy envoy;

    private Mesh(MeshBuilder config) throws IOException {
        this.config = config;
        this.policies = Files.createTempDirectory("aimesh-policies-");
        this.listenerPort = Ports.hold();
        this.filterPort = Ports.hold();
        deadSocket.bind(new InetSocketAddress("127.0.0.1", 0));
    }

    /** What to run; see {@link MeshBuilder}. */
    public static MeshBuilder builder() {
        return new MeshBuilder();
    }

    static Mesh start(MeshBuilder config) throws IOException {
        Mesh mesh = new Mesh(config);
        try {
            mesh.startAll();
            return mesh;
        } catch (IOException | RuntimeException e) {
            mesh.close();
            throw e;
        }
    }

    private void startAll() throws IOException {
        List<String> versions = config.v2Weight < 0 ? List.of("v1", "v1") : List.of("v1", "v1", "v2", "v2");
        for (String version : versions) {
            sims.add(ModelSimServer.start(ModelSimConfig.builder().port(0).model(MODEL).version(version)
                    .speed(20).maxSeqs(64).kvTokens(1 << 20).seed(sims.size() + 1).build()));
        }
        writePolicy("pools.yaml", pools());
        writePolicy("routes.yaml", route(config.v1Weight, config.v2Weight));
        if (config.failureMode != null) {
            writePolicy("gateway.yaml", gatewayAndTenants());
        }
        if (!config.extraPolicies.isEmpty()) {
            writePolicy("extra.yaml", config.extraPolicies);
        }
        startControlPlane(0);
        if (config.failureMode != null) {
            startFilter();
        }
        listenerPort.release(); // Envoy binds it once the control plane's listener reaches it
        envoy = Envoy.start("test-" + (config.failureMode != null ? "filter-" : "") + (config.delta ? "delta" : "sotw") + "-"
                + listenerPort.port(), xdsPort, config.delta);
        if (config.failureMode != null) {
            // Envoy's listener comes from xDS after its admin interface is up: until then connecting is refused.
            await().atMost(Duration.ofSeconds(30)).ignoreExceptionsInstanceOf(UncheckedIOException.class)
                    .until(() -> chat(GLOBEX_KEY, false, 2, Map.of()).statusCode() == 200);
        } else {
            Traffic probe = traffic();
            await().atMost(Duration.ofSeconds(20)).until(() -> probe.once(Map.of()) != null);
        }
    }

    private void startControlPlane(int port) throws IOException {
        controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(policies)
                .withXds("127.0.0.1", port)
                .withAdmin("127.0.0.1", 0)
                .withListener("127.0.0.1", listenerPort.port())
                .withRolloutState(rolloutState()));
        xdsPort = controlPlane.xdsPort();
    }

    /** Where the control plane keeps its rollouts' state, beside this mesh's policy directory: a restart finds it. */
    public Path rolloutState() {
        return policies.resolveSibling(policies.getFileName() + "-rollouts.json");
    }

    /** Closes the control plane if it runs and starts it again on the same xDS port. */
    public void restartControlPlane() throws IOException {
        controlPlane.close();
        startControlPlane(xdsPort);
    }

    /** Starts the ai-filter on {@link #filterPort} (again, after {@link #stopFilter}) and waits for its first config. */
    public void startFilter() throws IOException {
        filterPort.release();
        filter = AiFilter.start(new AiFilterOptions("127.0.0.1:" + xdsPort, "filter-" + filterPort.port(),
                "127.0.0.1", filterPort.port(), "127.0.0.1", 0).withSpendDirectory(config.spendDirectory));
        await().atMost(Duration.ofSeconds(10)).until(() -> filter.configVersion() != null);
    }

    /** Stops the ai-filter: Envoy's ext_proc calls then fail, as the Gateway's failure mode says. */
    public void stopFilter() {
        filter.close();
        filter = null;
    }

    /** A new counter of requests to {@link #MODEL} through Envoy. */
    public Traffic traffic() {
        return new Traffic(listenerPort.port(), MODEL);
    }

    /** Sends a chat completion for {@link #MODEL} through Envoy; {@code apiKey} may be null, {@code maxTokens <= 0} sends none. */
    public HttpResponse<String> chat(String apiKey, boolean stream, int maxTokens, Map<String, String> headers) {
        String body = "{\"model\":\"" + MODEL + "\"," + (maxTokens > 0 ? "\"max_tokens\":" + maxTokens + "," : "")
                + (stream ? "\"stream\":true," : "")
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Write a haiku about rate limits and GPUs.\"}]}";
        return post("/v1/chat/completions", apiKey, body, headers);
    }

    /** POSTs a JSON {@code body} to {@code path} on Envoy's listener; {@code apiKey} may be null. */
    public HttpResponse<String> post(String path, String apiKey, String body, Map<String, String> headers) {
        return post(listenerPort.port(), path, apiKey, body, headers);
    }

    /**
     * POSTs a JSON {@code body} to {@code path} on {@code 127.0.0.1:port}, a proxy of the test's own in
     * front of this mesh's filter and model-sims; {@code apiKey} may be null.
     */
    public HttpResponse<String> post(int port, String path, String apiKey, String body, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
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
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * How often the filter's picker has picked each endpoint of {@code pool} so far (its metric
     * {@code aimesh_filter_picks_total}, outcome {@code picked}), by {@code ip:port}. Needs the filter.
     */
    public Map<String, Double> picks(String pool) throws IOException, InterruptedException {
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + filter.adminPort() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        Pattern picked = Pattern.compile("aimesh_filter_picks_total\\{endpoint=\"([^\"]+)\",outcome=\"picked\",pool=\""
                + Pattern.quote(pool) + "\"} ([0-9.E]+)");
        Map<String, Double> picks = new HashMap<>();
        Matcher matcher = picked.matcher(metrics);
        while (matcher.find()) {
            picks.put(matcher.group(1), Double.parseDouble(matcher.group(2)));
        }
        return picks;
    }

    /**
     * The sum of the filter's metric series that start with {@code prefix} (a name and the first
     * labels, in the exposition's alphabetical order, e.g. {@code name{model="llama",outcome="ok"}),
     * 0 when there is none. Needs the filter.
     */
    public double filterMetric(String prefix) throws IOException, InterruptedException {
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + filter.adminPort() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        return metrics.lines().filter(l -> l.startsWith(prefix))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** Writes a policy file atomically, as a careful editor or a ConfigMap update does. */
    public void writePolicy(String name, String yaml) throws IOException {
        Path tmp = Files.createTempFile(policies.getParent(), ".policy-", ".tmp");
        Files.writeString(tmp, yaml);
        Files.move(tmp, policies.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The standard {@code pools.yaml}: pool llama-v1 on the first two model-sims, llama-v2 on the next two for a canary. */
    public String pools() {
        String v1 = pool("llama-v1", sims.get(0), sims.get(1));
        return sims.size() < 4 ? v1 : v1 + "---\n" + pool("llama-v2", sims.get(2), sims.get(3));
    }

    private static String pool(String name, ModelSimServer a, ModelSimServer b) {
        return """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: %s}
                spec:
                  endpoints: ["127.0.0.1:%d", "127.0.0.1:%d"]
                """.formatted(name, a.port(), b.port());
    }

    /**
     * The standard {@code routes.yaml} with these weights: ModelRoute {@code llama}, version v1 and
     * (with {@code v2Weight >= 0}) v2 on line 8, each forced by {@code x-aimesh-version}.
     */
    public String route(int v1Weight, int v2Weight) {
        String route = """
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: llama}
                spec:
                  model: %s
                  versions:
                    - {name: v1, pool: llama-v1, weight: %d}
                """.formatted(MODEL, v1Weight);
        if (v2Weight >= 0) {
            route += """
                        - {name: v2, pool: llama-v2, weight: %d}
                      overrides:
                        - {header: x-aimesh-version, value: v1, version: v1}
                        - {header: x-aimesh-version, value: v2, version: v2}
                    """.formatted(v2Weight);
        }
        if (config.failureMode != null) {
            route += "  tokenizer: approximate\n  defaultMaxTokens: " + config.defaultMaxTokens + "\n";
        }
        return route;
    }

    private String gatewayAndTenants() {
        return """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  filter:
                    address: 127.0.0.1:%1$d
                    failureMode: %2$s
                    messageTimeout: %3$s
                    maxRequestBytes: %12$d
                    streamOverrun: %4$s
                  identity: %5$s
                %13$s---
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
                  endpoints: ["127.0.0.1:%9$d"]
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
                  endpoints: ["127.0.0.1:%10$d"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: dead}
                spec:
                  model: %11$s
                  versions: [{name: v1, pool: dead, weight: 1}]
                  tokenizer: approximate
                """.formatted(filterPort.port(), config.failureMode, config.messageTimeout, config.streamOverrun,
                config.gatewayIdentity, sha256(ACME_KEY), config.acmeTokensPerMinute, sha256(GLOBEX_KEY), sims.get(0).port(),
                deadSocket.getLocalPort(), DEAD_MODEL, config.maxRequestBytes,
                config.gatewaySpec.isEmpty() ? "" : config.gatewaySpec.stripTrailing() + "\n");
    }

    /** The hex SHA-256 of {@code key}: a Tenant policy names an API key by it ({@code sha256:HEX}). */
    public static String sha256(String key) {
        return io.aimesh.filter.api.Sha256.hex(key);
    }

    public Path policies() {
        return policies;
    }

    /** Envoy's HTTP listener port. */
    public int listenerPort() {
        return listenerPort.port();
    }

    /** The ai-filter's gRPC port (ext_proc and the rate limit service). */
    public int filterPort() {
        return filterPort.port();
    }

    /** The model-sims, v1's first; the list is the mesh's own (tests may add servers to close with it). */
    public List<ModelSimServer> sims() {
        return sims;
    }

    public ControlPlane controlPlane() {
        return controlPlane;
    }

    /** The ai-filter, or {@code null} without one or while stopped. */
    public AiFilter filter() {
        return filter;
    }

    public Envoy envoy() {
        return envoy;
    }

    /** An HTTP client for the tests' own requests (admin pages, odd requests). */
    public HttpClient http() {
        return http;
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
        Files.deleteIfExists(rolloutState());
        for (ModelSimServer sim : sims) {
            sim.close();
        }
        deadSocket.close();
        listenerPort.release();
        filterPort.release();
    }
}
