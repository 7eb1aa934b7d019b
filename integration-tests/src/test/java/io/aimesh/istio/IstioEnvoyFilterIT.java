package io.aimesh.istio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aimesh.policy.LoadResult;
import io.aimesh.policy.PolicyLoader;
import io.aimesh.testing.Envoy;
import io.aimesh.testing.GoTool;
import io.aimesh.testing.Mesh;
import io.aimesh.testing.PickerFleet;
import io.aimesh.testing.Ports;
import io.aimesh.testing.Traffic;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The rendered Istio resources in a real Envoy configured the way istiod configures an Istio ingress
 * gateway, and nothing else: {@code aimesh istio render --mode gateway} writes the EnvoyFilter,
 * VirtualService, DestinationRule, ServiceEntry and Gateway from the mesh's policies; the
 * {@link GoTool#ISTIOD_BOOTSTRAP istiod-bootstrap} program runs istiod's own config generation on
 * them (its CRD parser, registries, push context, listener/route/cluster builders and EnvoyFilter
 * patching) and writes what istiod would send the gateway as a static bootstrap; a stock Envoy
 * runs it. Each test holds that gateway to the aimesh ADS path, the mesh's own Envoy configured by
 * the control plane, in front of the same ai-filter and model-sims.
 *
 * <p>Skips loudly, and only, when the Go program cannot be built here.
 */
class IstioEnvoyFilterIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> GLOBEX = Map.of("authorization", "Bearer " + Mesh.GLOBEX_KEY);
    /** acme's tokens per minute: a few requests of {@link #BIG_MAX_TOKENS} exhaust it. */
    private static final long ACME_LIMIT = 400;
    private static final int BIG_MAX_TOKENS = 150;

    private static PickerFleet fleet;
    private static Mesh mesh;
    private static Ports.Held gatewayPort;
    private static Envoy gateway;
    private static Optional<Path> tool;

    @BeforeAll
    static void start() throws Exception {
        long located = System.nanoTime();
        tool = GoTool.ISTIOD_BOOTSTRAP.locate();
        if (tool.isEmpty()) {
            return; // each test skips, so the report counts them
        }
        long locateMillis = (System.nanoTime() - located) / 1_000_000;
        fleet = PickerFleet.start(31);
        mesh = Mesh.builder().filter("closed").canary(80, 20).acmeTokensPerMinute(ACME_LIMIT).defaultMaxTokens(64)
                .extraPolicies(fleet.policies()).start();
        gatewayPort = Ports.hold();
        Path work = Path.of("target", "istio-gateway-" + gatewayPort.port()).toAbsolutePath();
        Path rendered = render(work.resolve("rendered"));
        long generated = System.nanoTime();
        Path bootstrap = generate(tool.get(), rendered, work);
        System.out.printf("FIGURE istiod-bootstrap locate/build %d ms, generate %d ms%n", locateMillis,
                (System.nanoTime() - generated) / 1_000_000);
        gatewayPort.release();
        gateway = Envoy.start("istio-gateway-" + gatewayPort.port(), Files.readString(bootstrap));
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
            HttpResponse<String> first = gatewayChat(GLOBEX, Mesh.MODEL, 2);
            assertThat(first.statusCode()).as("%s %s", first.headers().map(), first.body()).isEqualTo(200);
        });
    }

    /** Renders the mesh's policies for an Istio gateway whose ai-filter is the mesh's. */
    private static Path render(Path dir) throws IOException, RenderException {
        LoadResult loaded = PolicyLoader.loadDirectory(mesh.policies());
        assertThat(loaded.errors()).isEmpty();
        IstioResources resources = IstioRenderer.render(loaded.policies(),
                new RenderOptions(RenderOptions.Mode.GATEWAY, null, Map.of(), RenderOptions.DEFAULT_NAMESPACE, false, false));
        resources.write(dir);
        return dir;
    }

    /**
     * Runs istiod's config generation on the rendered resources for a gateway pod labelled
     * {@code istio=ingressgateway} in {@code istio-system}, where Istio's default gateway runs, while the
     * routes are in {@code default}: the render must put the EnvoyFilter beside the pod, since it applies
     * in its own namespace only (rendered beside the routes, the gateway routed a client's
     * {@code x-aimesh-model} with no ai-filter). The bootstrap it wrote.
     */
    private static Path generate(Path program, Path rendered, Path work) throws IOException, InterruptedException {
        Path bootstrap = work.resolve("bootstrap.json");
        Path log = work.resolve("istiod-bootstrap.log");
        Process process = new ProcessBuilder(program.toString(), "-config", rendered.toString(),
                "-port", Integer.toString(gatewayPort.port()), "-out", bootstrap.toString(),
                "-namespace", RenderOptions.DEFAULT_GATEWAY_NAMESPACE)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = process.waitFor(60, TimeUnit.SECONDS);
        if (!done) {
            process.destroyForcibly();
        }
        assertThat(done && process.exitValue() == 0).as("istiod-bootstrap: %s", Files.readString(log)).isTrue();
        return bootstrap;
    }

    @BeforeEach
    void skipWithoutTheGoProgram() {
        assumeTrue(tool.isPresent(), GoTool.ISTIOD_BOOTSTRAP.skipMessage());
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        if (gatewayPort != null) {
            gatewayPort.release();
        }
        if (mesh != null) {
            mesh.close();
        }
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void missingOrUnknownKey_gets401_asOnTheAdsPath() throws Exception {
        for (Map<String, String> headers : List.of(Map.<String, String>of(), Map.of("authorization", "Bearer not-a-key"))) {
            HttpResponse<String> istio = gatewayChat(headers, Mesh.MODEL, 2);
            assertError(istio, 401, "invalid_api_key");
            assertThat(istio.headers().firstValue("x-aimesh-decision")).hasValue("denied reason=unknown-tenant");
            assertSameAnswer(istio, adsChat(headers, Mesh.MODEL, 2));
        }
    }

    @Test
    void modelTheTenantMayNotUse_gets403_asOnTheAdsPath() throws Exception {
        Map<String, String> initech = Map.of("x-tenant", "initech");
        HttpResponse<String> istio = gatewayChat(initech, Mesh.MODEL, 2);

        assertError(istio, 403, "model_not_allowed");
        assertThat(istio.headers().firstValue("x-aimesh-decision"))
                .hasValue("denied reason=model-not-allowed tenant=initech model=" + Mesh.MODEL);
        assertSameAnswer(istio, adsChat(initech, Mesh.MODEL, 2));
    }

    @Test
    void overBudget_gets429WithRetryAfter_asOnTheAdsPath() throws Exception {
        Map<String, String> acme = Map.of("authorization", "Bearer " + Mesh.ACME_KEY);
        HttpResponse<String> istio = null;
        // Each request reserves more than a third of the budget: the fourth is refused at the latest,
        // unless the minute's window ended among them (the budget starts afresh): then once more.
        for (int attempt = 0; attempt < 2 && (istio == null || istio.statusCode() == 200); attempt++) {
            istio = null;
            for (int i = 0; i < 4 && (istio == null || istio.statusCode() == 200); i++) {
                istio = gatewayChat(acme, Mesh.MODEL, BIG_MAX_TOKENS);
            }
        }

        assertError(istio, 429, "rate_limit_exceeded");
        assertThat(istio.headers().firstValue("retry-after")).hasValueSatisfying(v -> assertThat(v).matches("[1-9][0-9]*"));
        assertThat(istio.headers().firstValue("x-ratelimit-limit-tokens")).hasValue(Long.toString(ACME_LIMIT));
        assertThat(istio.headers().firstValue("x-ratelimit-remaining-tokens")).isPresent();
        assertSameAnswer(istio, adsChat(acme, Mesh.MODEL, BIG_MAX_TOKENS));
    }

    @Test
    void canarySplit_holdsEightyTwentyWithinSamplingError() throws Exception {
        int n = 1000;
        Traffic traffic = new Traffic(gatewayPort.port(), Mesh.MODEL).send(n, 8, GLOBEX);

        assertThat(traffic.failures()).isEmpty();
        // v2's count is Binomial(n, 0.2): sd = sqrt(n p (1-p)) ≈ 12.6 for n = 1000. A band of 4.9 sd fails a
        // correct split about once in a million runs, yet catches 80/20 served as 73/27.
        double sd = Math.sqrt(n * 0.2 * 0.8);
        // The control plane's own Envoy, same mesh and load, in the same run: the peer the figure stands beside.
        Traffic ads = new Traffic(mesh.listenerPort(), Mesh.MODEL).send(n, 8, GLOBEX);
        System.out.printf("FIGURE istio-gateway canary v1 %d v2 %d of %d; ads-path v1 %d v2 %d (expected v2 %.0f ± %.1f)%n",
                traffic.count("v1"), traffic.count("v2"), n, ads.count("v1"), ads.count("v2"), n * 0.2, 4.9 * sd);
        assertThat((double) traffic.count("v2")).isBetween(n * 0.2 - 4.9 * sd, n * 0.2 + 4.9 * sd);
        assertThat(traffic.count("v1") + traffic.count("v2")).isEqualTo(n);
        assertThat(traffic.byInstance()).hasSize(4);
    }

    @Test
    void headerOverride_alwaysWinsOverWeights() throws Exception {
        Map<String, String> v2 = new HashMap<>(GLOBEX);
        v2.put("x-aimesh-version", "v2");
        Map<String, String> v1 = new HashMap<>(GLOBEX);
        v1.put("x-aimesh-version", "v1");

        Traffic forcedV2 = new Traffic(gatewayPort.port(), Mesh.MODEL).send(100, 4, v2);
        Traffic forcedV1 = new Traffic(gatewayPort.port(), Mesh.MODEL).send(100, 4, v1);

        assertThat(forcedV2.failures()).isEmpty();
        assertThat(forcedV2.count("v2")).isEqualTo(100);
        assertThat(forcedV1.failures()).isEmpty();
        assertThat(forcedV1.count("v1")).isEqualTo(100);
    }

    @Test
    void internalHeadersFromTheClient_doNotSteerRouting() throws Exception {
        // A model header naming a served model cannot rescue a body naming none.
        HttpResponse<String> spoofedModel = gatewayChat(with(GLOBEX, "x-aimesh-model", Mesh.MODEL), "no-such-model", 2);
        assertError(spoofedModel, 404, "model_not_found");

        // A pool header naming the canary's pool does not force it: the split holds (n = 200, p = 0.2, 4.9 sd).
        int n = 200;
        double sd = Math.sqrt(n * 0.2 * 0.8);
        Traffic pooled = new Traffic(gatewayPort.port(), Mesh.MODEL).send(n, 4, with(GLOBEX, "x-aimesh-pool", "llama-v2"));
        assertThat(pooled.failures()).isEmpty();
        assertThat((double) pooled.count("v2")).isBetween(n * 0.2 - 4.9 * sd, n * 0.2 + 4.9 * sd);

        // A destination header naming a server outside the picker pool never reaches it.
        Map<String, String> spoofed = with(with(GLOBEX, "x-gateway-destination-endpoint", fleet.outsider().instanceName()),
                "x-aimesh-pool", PickerFleet.POOL);
        Map<String, Long> served = fleetTraffic(40, 2, spoofed);
        assertThat(served).doesNotContainKey(fleet.outsider().instanceName());
        assertThat(served.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(40);
    }

    @Test
    void pickerPool_everyRequestLandsOnTheEndpointTheFilterPicked() throws Exception {
        Map<String, Double> before = mesh.picks(PickerFleet.POOL);
        Map<String, Long> served = fleetTraffic(60, 1, Map.of());
        Map<String, Double> after = mesh.picks(PickerFleet.POOL);

        Map<String, Long> picked = new HashMap<>();
        after.forEach((endpoint, count) -> {
            long delta = (long) (count - before.getOrDefault(endpoint, 0.0));
            if (delta > 0) {
                picked.put(endpoint, delta);
            }
        });
        assertThat(served).isEqualTo(picked);
        assertThat(served.keySet()).allMatch(fleet::isMember);
    }

    @Test
    void pickerPool_slowEndpointGetsMeasurablyFewerRequests() throws Exception {
        // As on the ADS path (PickerRoutingIT): 8 clients in a closed loop; round robin would give each
        // endpoint a third (80 of 240); the slow one's queue shows in its metrics and the picker sends it
        // little. A bound of a fifth leaves room for the scrape delay.
        Map<String, Long> served = fleetTraffic(240, 8, Map.of());

        long total = served.values().stream().mapToLong(Long::longValue).sum();
        Map<String, Long> ads = new Traffic(mesh.listenerPort(), PickerFleet.MODEL, 16).send(240, 8, GLOBEX).byInstance();
        System.out.printf("FIGURE istio-gateway picker served %s; ads-path %s (slow: %s; round robin: 80 each)%n", served, ads,
                fleet.slow().instanceName());
        assertThat(total).isEqualTo(240);
        assertThat(served.getOrDefault(fleet.slow().instanceName(), 0L)).as("slow endpoint's share of %s", served)
                .isLessThan(total / 5);
    }

    @Test
    void admittedResponse_carriesTheDecisionAndRateLimitHeaders_asOnTheAdsPath() throws Exception {
        Map<String, String> pinned = with(GLOBEX, "x-aimesh-version", "v1");
        HttpResponse<String> istio = gatewayChat(pinned, Mesh.MODEL, 2);
        HttpResponse<String> ads = adsChat(pinned, Mesh.MODEL, 2);

        assertThat(istio.statusCode()).as(istio.body()).isEqualTo(200);
        assertThat(ads.statusCode()).as(ads.body()).isEqualTo(200);
        assertThat(istio.headers().firstValue("x-aimesh-decision")).isPresent()
                .isEqualTo(ads.headers().firstValue("x-aimesh-decision"));
        assertThat(istio.headers().firstValue("x-ratelimit-limit-tokens")).hasValue("100000000")
                .isEqualTo(ads.headers().firstValue("x-ratelimit-limit-tokens"));
        assertThat(istio.headers().firstValue("x-ratelimit-remaining-tokens")).hasValueSatisfying(v -> assertThat(v).matches("[0-9]+"));
        assertThat(istio.headers().firstValue("x-ratelimit-reset-tokens")).hasValueSatisfying(
                v -> assertThat(v).matches("[0-9.]+m?s|[0-9]+m[0-9.]+s"));
        assertThat(istio.headers().firstValue("x-model-sim-version")).hasValue("v1");
    }

    /** The same status, error code and decision on both paths. */
    private static void assertSameAnswer(HttpResponse<String> istio, HttpResponse<String> ads) throws IOException {
        assertThat(ads.statusCode()).as(ads.body()).isEqualTo(istio.statusCode());
        assertThat(errorCode(ads)).isEqualTo(errorCode(istio));
        assertThat(ads.headers().firstValue("x-aimesh-decision")).isEqualTo(istio.headers().firstValue("x-aimesh-decision"));
        assertThat(ads.headers().firstValue("retry-after").isPresent()).isEqualTo(istio.headers().firstValue("retry-after").isPresent());
    }

    private static void assertError(HttpResponse<String> response, int status, String code) throws IOException {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(errorCode(response)).isEqualTo(code);
    }

    private static String errorCode(HttpResponse<String> response) throws IOException {
        JsonNode error = JSON.readTree(response.body()).path("error");
        return error.path("code").asText();
    }

    private static HttpResponse<String> gatewayChat(Map<String, String> headers, String model, int maxTokens) {
        return mesh.post(gatewayPort.port(), "/v1/chat/completions", null, chatBody(model, maxTokens), headers);
    }

    private static HttpResponse<String> adsChat(Map<String, String> headers, String model, int maxTokens) {
        return mesh.post("/v1/chat/completions", null, chatBody(model, maxTokens), headers);
    }

    private static String chatBody(String model, int maxTokens) {
        return "{\"model\":\"" + model + "\",\"max_tokens\":" + maxTokens
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"Say something about GPUs.\"}]}";
    }

    private static Map<String, String> with(Map<String, String> headers, String name, String value) {
        return with(headers, Map.of(name, value));
    }

    private static Map<String, String> with(Map<String, String> headers, Map<String, String> more) {
        Map<String, String> all = new HashMap<>(headers);
        all.putAll(more);
        return all;
    }

    /** {@code n} requests for the fleet's model through the gateway from {@code clients} threads; answers per serving instance. */
    private static Map<String, Long> fleetTraffic(int n, int clients, Map<String, String> headers) throws InterruptedException {
        Traffic traffic = new Traffic(gatewayPort.port(), PickerFleet.MODEL, 16).send(n, clients, with(headers, GLOBEX));
        assertThat(traffic.failures()).isEmpty();
        return traffic.byInstance();
    }
}
