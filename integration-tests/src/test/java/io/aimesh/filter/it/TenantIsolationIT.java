package io.aimesh.filter.it;

import io.aimesh.testing.Mesh;
import io.aimesh.testing.TestIssuer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tenant isolation on the real path (Envoy with jwt_authn → ai-filter → model-sim): verified
 * identity, dedicated pools, priority shedding and fair share of a saturated pool.
 */
class TenantIsolationIT {
    private static final String TOKEN_HEADER = "x-id-token";
    private static final String AUDIENCE = "aimesh";
    private static final String ISO_MODEL = "iso-model";
    private static final String PRIO_MODEL = "prio-model";
    private static final String FAIR_MODEL = "fair-model";
    private static final Map<String, String> KEYS = Map.of("crit", "crit-key", "std", "std-key", "shed", "shed-key",
            "noisy", "noisy-key", "quiet", "quiet-key");

    private static final TestIssuer issuer = new TestIssuer("k1");
    private static ModelSimServer shared;
    private static ModelSimServer reserved;
    /** One sequence at a time, slow: one request in flight saturates its pool. */
    private static ModelSimServer single;
    private static final List<ModelSimServer> fair = new ArrayList<>();
    private static Mesh mesh;

    @BeforeAll
    static void start() throws Exception {
        shared = ModelSimServer.start(ModelSimConfig.builder().port(0).model(ISO_MODEL).version("shared").speed(20)
                .maxSeqs(64).kvTokens(1 << 20).seed(21).build());
        reserved = ModelSimServer.start(ModelSimConfig.builder().port(0).model(ISO_MODEL).version("reserved").speed(20)
                .maxSeqs(64).kvTokens(1 << 20).seed(22).build());
        single = ModelSimServer.start(ModelSimConfig.builder().port(0).model(PRIO_MODEL).version("v1").speed(1)
                .maxSeqs(1).kvTokens(1 << 20).seed(23).build());
        for (int i = 0; i < 2; i++) {
            // The default GPU profile at full speed: a step of 12.5 ms alone, 14 ms with four in the batch.
            fair.add(ModelSimServer.start(ModelSimConfig.builder().port(0).model(FAIR_MODEL).version("v1").speed(1)
                    .maxSeqs(4).kvTokens(1 << 20).seed(24 + i).build()));
        }
        StringBuilder tenants = new StringBuilder();
        KEYS.forEach((tenant, key) -> tenants.append("""
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: %s}
                spec:
                  identity: {apiKeys: [{sha256: "sha256:%s"}]}
                  priority: %s
                """.formatted(tenant, Mesh.sha256(key),
                tenant.equals("crit") ? "critical" : tenant.equals("shed") ? "sheddable" : "standard")));
        String policies = """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: shared-pool}
                spec:
                  endpoints: ["%s"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: beta-pool}
                spec:
                  endpoints: ["%s"]
                  balancing: {mode: picker, metricsInterval: 50ms}
                  dedicatedTo: {tenants: [beta]}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: iso}
                spec:
                  model: %s
                  versions: [{name: shared, pool: shared-pool, weight: 1}, {name: reserved, pool: beta-pool, weight: 0}]
                  overrides: [{header: x-aimesh-version, value: reserved, version: reserved}]
                  tokenizer: approximate
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: alpha}
                spec:
                  identity: {jwtClaim: alpha}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: beta}
                spec:
                  identity: {jwtClaim: beta}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: prio-pool}
                spec:
                  endpoints: ["%s"]
                  balancing: {mode: picker, metricsInterval: 20ms, maxInFlight: 1, whenSaturated: queue, queueSize: 2,
                              queueTimeout: 60s, retryAfter: 3s}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: prio}
                spec:
                  model: %s
                  versions: [{name: v1, pool: prio-pool, weight: 1}]
                  tokenizer: approximate
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: fair-pool}
                spec:
                  endpoints: ["%s", "%s"]
                  balancing: {mode: picker, metricsInterval: 50ms, maxInFlight: 4, whenSaturated: queue, queueSize: 64,
                              queueTimeout: 60s}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: fair}
                spec:
                  model: %s
                  versions: [{name: v1, pool: fair-pool, weight: 1}]
                  tokenizer: approximate
                """.formatted(shared.instanceName(), reserved.instanceName(), ISO_MODEL, single.instanceName(), PRIO_MODEL,
                fair.get(0).instanceName(), fair.get(1).instanceName(), FAIR_MODEL) + tenants;
        String identity = "{trustedHop: true, jwt: {issuer: \"%s\", audiences: [%s], jwks: '%s', tenantClaim: tenant, header: %s}}"
                .formatted(TestIssuer.ISSUER, AUDIENCE, issuer.jwks(), TOKEN_HEADER);
        mesh = Mesh.builder().filter("closed").defaultMaxTokens(64).extraPolicies(policies)
                .messageTimeout("10s").gatewayIdentity(identity).start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (mesh != null) {
            mesh.close();
        }
        for (ModelSimServer sim : List.of(shared, reserved, single)) {
            sim.close();
        }
        for (ModelSimServer sim : fair) {
            sim.close();
        }
    }

    @Test
    void envoyRejectsBadTokens_andAValidOneNamesItsTenant() {
        long now = Instant.now().getEpochSecond();
        HttpResponse<String> valid = iso(token("alpha", now + 3600), Map.of());
        assertThat(valid.statusCode()).as(valid.body()).isEqualTo(200);
        assertThat(valid.headers().firstValue("x-aimesh-decision").orElseThrow()).contains("tenant=alpha");

        TestIssuer impostor = new TestIssuer("k1");
        Map<String, String> bad = Map.of(
                "wrong key", impostor.token(TestIssuer.claims(TestIssuer.ISSUER, AUDIENCE, "alpha", now + 3600)),
                "expired", token("alpha", now - 3600),
                "wrong audience", issuer.token(TestIssuer.claims(TestIssuer.ISSUER, "someone-else", "alpha", now + 3600)),
                "wrong issuer", issuer.token(TestIssuer.claims("https://elsewhere.test", AUDIENCE, "alpha", now + 3600)),
                "not a token", "alpha");
        bad.forEach((why, token) -> {
            HttpResponse<String> response = iso(token, Map.of());
            // Envoy's jwt_authn answers 403 for a token it verified but whose audience is not allowed.
            assertThat(response.statusCode()).as(why + ": " + response.body()).isEqualTo(why.equals("wrong audience") ? 403 : 401);
            // Envoy answered: the filter never saw the request.
            assertThat(response.headers().firstValue("x-aimesh-decision")).as(why).isEmpty();
        });

        HttpResponse<String> stranger = iso(token("nobody", now + 3600), Map.of());
        assertThat(stranger.statusCode()).isEqualTo(401);
        assertThat(stranger.headers().firstValue("x-aimesh-decision")).hasValue("denied reason=unknown-jwt-tenant");
    }

    @Test
    void spoofedTenantHeaders_haveNoEffect() {
        long now = Instant.now().getEpochSecond();
        // alpha's token, with beta named in the internal tenant header and initech in the trusted one.
        HttpResponse<String> response = iso(token("alpha", now + 3600),
                Map.of("x-aimesh-tenant", "beta", "x-tenant", "initech", "x-aimesh-pool", "beta-pool"));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-aimesh-decision").orElseThrow()).contains("tenant=alpha")
                .contains("pool=shared-pool");
        assertThat(response.headers().firstValue("x-model-sim-instance")).hasValue(shared.instanceName());
    }

    @Test
    void anotherApi_withAModelInItsBody_isNotRoutedToTheModel() {
        // Only the APIs the filter checks reach a model: this one would bypass identity and budgets.
        for (String path : List.of("/v1/responses", "/v1/chat/completions/", "/v2/chat/completions")) {
            HttpResponse<String> response = mesh.post(path, null, body(ISO_MODEL, 8), Map.of());
            assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(404);
            assertThat(response.headers().firstValue("x-model-sim-instance")).as(path).isEmpty();
        }
    }

    @Test
    void aDedicatedPool_servesItsTenantAlone() {
        long now = Instant.now().getEpochSecond();
        String alpha = token("alpha", now + 3600);
        String beta = token("beta", now + 3600);
        Map<String, Integer> alphaServed = new HashMap<>();
        Map<String, Integer> betaServed = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            // alpha even asks for the reserved version by its override header; it is not alpha's to take.
            Map<String, String> headers = i % 2 == 0 ? Map.of() : Map.of("x-aimesh-version", "reserved");
            HttpResponse<String> a = iso(alpha, headers);
            HttpResponse<String> b = iso(beta, Map.of());
            assertThat(a.statusCode()).as(a.body()).isEqualTo(200);
            assertThat(b.statusCode()).as(b.body()).isEqualTo(200);
            alphaServed.merge(a.headers().firstValue("x-model-sim-instance").orElseThrow(), 1, Integer::sum);
            betaServed.merge(b.headers().firstValue("x-model-sim-instance").orElseThrow(), 1, Integer::sum);
            assertThat(b.headers().firstValue("x-aimesh-decision").orElseThrow()).startsWith("admitted rule=dedicated pool=beta-pool");
        }
        assertThat(alphaServed).isEqualTo(Map.of(shared.instanceName(), 40));
        assertThat(betaServed).isEqualTo(Map.of(reserved.instanceName(), 40));
    }

    @Test
    void aSaturatedPool_shedsSheddableFirst_thenStandard_andCriticalOnlyWhenNothingElseRemains() throws Exception {
        ExecutorService clients = Executors.newCachedThreadPool();
        try {
            // A long request fills the one slot (maxInFlight 1); the queue holds two.
            Future<HttpResponse<String>> blocker = clients.submit(() -> prio("crit", 300));
            await().atMost(Duration.ofSeconds(10)).until(() -> picks("prio-pool", "picked") >= 1);
            List<Future<HttpResponse<String>>> sheddable = submit(clients, "shed", 2);
            awaitQueued(2);
            List<Future<HttpResponse<String>>> standard = submit(clients, "std", 2);
            awaitQueued(4);
            List<Future<HttpResponse<String>>> critical = submit(clients, "crit", 2);
            awaitQueued(6);
            // Every place is held by a critical request: one more is the one refused.
            HttpResponse<String> lastCritical = prio("crit", 4);

            for (Future<HttpResponse<String>> refused : concat(sheddable, standard)) {
                HttpResponse<String> response = refused.get(30, TimeUnit.SECONDS);
                assertThat(response.statusCode()).as(response.body()).isEqualTo(429);
                assertThat(response.headers().firstValue("retry-after")).hasValue("3");
            }
            assertThat(sheddable.get(0).get().headers().firstValue("x-aimesh-decision"))
                    .hasValue("shed reason=displaced pool=prio-pool tenant=shed priority=sheddable");
            assertThat(standard.get(0).get().headers().firstValue("x-aimesh-decision"))
                    .hasValue("shed reason=displaced pool=prio-pool tenant=std priority=standard");
            assertThat(lastCritical.statusCode()).isEqualTo(429);
            assertThat(lastCritical.headers().firstValue("x-aimesh-decision"))
                    .hasValue("shed reason=queue-full pool=prio-pool tenant=crit priority=critical");
            for (Future<HttpResponse<String>> served : critical) {
                HttpResponse<String> response = served.get(60, TimeUnit.SECONDS);
                assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                assertThat(response.headers().firstValue("x-aimesh-decision").orElseThrow()).contains("waited_ms=");
            }
            assertThat(blocker.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void aNoisyNeighbour_doesNotRuinAQuietTenantsLatency() throws Exception {
        // quiet alone: 8 requests a second, 80 in all, on an idle pool.
        List<Long> alone = trickle("quiet", 80, 125);
        // noisy floods with 24 clients in a closed loop, three times the pool's 8 slots, each request asking
        // for 8 to 24 tokens (seeded); quiet trickles as before.
        AtomicBoolean flooding = new AtomicBoolean(true);
        ExecutorService noisyClients = Executors.newFixedThreadPool(24);
        List<Future<int[]>> noisy = new ArrayList<>();
        try {
            for (int c = 0; c < 24; c++) {
                SplittableRandom lengths = new SplittableRandom(1_000 + c);
                noisy.add(noisyClients.submit(() -> {
                    int[] counts = new int[2]; // served, refused
                    while (flooding.get()) {
                        HttpResponse<String> response = fair("noisy", 8 + lengths.nextInt(17));
                        counts[response.statusCode() == 200 ? 0 : 1]++;
                    }
                    return counts;
                }));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> picks("fair-pool", "queued") >= 16);
            List<Long> crowded = trickle("quiet", 80, 125);
            flooding.set(false);
            int served = 0;
            for (Future<int[]> client : noisy) {
                served += client.get(60, TimeUnit.SECONDS)[0];
            }
            long p99Alone = p99(alone);
            long p99Crowded = p99(crowded);
            assertThat(p99Crowded).as("quiet's p99 in ms: alone %d, beside the flood %d (alone %s; crowded %s)", p99Alone,
                    p99Crowded, alone, crowded).isLessThanOrEqualTo(p99Alone * 3 / 2);
            // The pool stayed work-conserving: noisy, held back in the filter's queue (awaited above), was
            // still served with the slots quiet did not need.
            assertThat(served).isPositive();
            System.out.printf("noisy neighbour: quiet p99 %d ms alone, %d ms beside the flood (%.2fx); noisy served %d%n",
                    p99Alone, p99Crowded, (double) p99Crowded / p99Alone, served);
        } finally {
            flooding.set(false);
            noisyClients.shutdownNow();
        }
    }

    /** Sends {@code count} requests as {@code tenant}, one every {@code periodMillis} ms; their latencies in ms. */
    private static List<Long> trickle(String tenant, int count, long periodMillis) throws Exception {
        ScheduledExecutorService timer = Executors.newScheduledThreadPool(1);
        ExecutorService senders = Executors.newCachedThreadPool();
        try {
            List<CompletableFuture<Long>> latencies = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                CompletableFuture<Long> latency = new CompletableFuture<>();
                latencies.add(latency);
                timer.schedule(() -> senders.execute(() -> {
                    long start = System.nanoTime();
                    HttpResponse<String> response = fair(tenant, 16);
                    if (response.statusCode() != 200) {
                        latency.completeExceptionally(new AssertionError(tenant + " got " + response.statusCode() + ": "
                                + response.body()));
                    } else {
                        latency.complete((System.nanoTime() - start) / 1_000_000);
                    }
                }), i * periodMillis, TimeUnit.MILLISECONDS);
            }
            List<Long> result = new ArrayList<>();
            for (CompletableFuture<Long> latency : latencies) {
                result.add(latency.get(60, TimeUnit.SECONDS));
            }
            return result;
        } finally {
            timer.shutdownNow();
            senders.shutdownNow();
        }
    }

    /** The nearest-rank 99th percentile. */
    private static long p99(List<Long> samples) {
        List<Long> sorted = new ArrayList<>(samples);
        Collections.sort(sorted);
        return sorted.get((int) Math.ceil(0.99 * sorted.size()) - 1);
    }

    private static List<Future<HttpResponse<String>>> submit(ExecutorService clients, String tenant, int count) {
        List<Future<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            futures.add(clients.submit(() -> prio(tenant, 4)));
        }
        return futures;
    }

    @SafeVarargs
    private static <T> List<T> concat(List<T>... lists) {
        List<T> all = new ArrayList<>();
        for (List<T> list : lists) {
            all.addAll(list);
        }
        return all;
    }

    /** Waits until the filter has queued {@code total} requests of the priority pool since it started. */
    private static void awaitQueued(int total) {
        await().atMost(Duration.ofSeconds(10)).until(() -> picks("prio-pool", "queued") >= total);
    }

    /** The filter's count of picks in {@code pool} with {@code outcome}, over all endpoints. */
    private static double picks(String pool, String outcome) throws Exception {
        String metrics = mesh.http().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mesh.filter().adminPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher matcher = Pattern.compile("aimesh_filter_picks_total\\{endpoint=\"[^\"]*\",outcome=\"" + outcome
                + "\",pool=\"" + pool + "\"} ([0-9.E]+)").matcher(metrics);
        double total = 0;
        while (matcher.find()) {
            total += Double.parseDouble(matcher.group(1));
        }
        return total;
    }

    private static String token(String tenant, long expiresAt) {
        return issuer.token(TestIssuer.claims(TestIssuer.ISSUER, AUDIENCE, tenant, expiresAt));
    }

    private static HttpResponse<String> iso(String token, Map<String, String> headers) {
        Map<String, String> all = new HashMap<>(headers);
        all.put(TOKEN_HEADER, token);
        return mesh.post("/v1/chat/completions", null, body(ISO_MODEL, 8), all);
    }

    private static HttpResponse<String> prio(String tenant, int maxTokens) {
        return mesh.post("/v1/chat/completions", KEYS.get(tenant), body(PRIO_MODEL, maxTokens), Map.of());
    }

    private static HttpResponse<String> fair(String tenant, int maxTokens) {
        return mesh.post("/v1/chat/completions", KEYS.get(tenant), body(FAIR_MODEL, maxTokens), Map.of());
    }

    private static String body(String model, int maxTokens) {
        return "{\"model\":\"" + model + "\",\"max_tokens\":" + maxTokens
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"Say something about GPUs.\"}]}";
    }
}
