package io.aimesh.filter.it;

import io.aimesh.testing.Mesh;
import io.aimesh.testing.PickerFleet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The ai-filter picking endpoints on the real path: Envoy → ai-filter (ext_proc) → the endpoint it
 * picked, through the ORIGINAL_DST cluster the control plane configures for a picker pool. A fleet
 * of three model-sims, one of them slow (a tenth of the speed, one sequence at a time), and one
 * model-sim outside the pool that serves the same model, as the target of spoofed headers.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PickerRoutingIT {
    private static final String MODEL = PickerFleet.MODEL;
    private static final String SINGLE_MODEL = "single-model";

    private static PickerFleet fleet;
    /** One sequence at a time: its queue saturates two pools, one that queues and one that rejects. */
    private static ModelSimServer single;
    private static Mesh mesh;

    @BeforeAll
    static void start() throws Exception {
        fleet = PickerFleet.start(11);
        single = ModelSimServer.start(ModelSimConfig.builder().port(0).model(SINGLE_MODEL).version("single").speed(8)
                .maxSeqs(1).kvTokens(1 << 20).seed(98).build());
        mesh = Mesh.builder().filter("closed").defaultMaxTokens(64).extraPolicies(fleet.policies() + """
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: single-queue}
                spec:
                  endpoints: ["%1$s"]
                  balancing: {mode: picker, metricsInterval: 20ms, maxQueue: 1, whenSaturated: queue, queueSize: 50,
                              queueTimeout: 60s}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: single-reject}
                spec:
                  endpoints: ["%1$s"]
                  balancing: {mode: picker, metricsInterval: 20ms, maxQueue: 1, retryAfter: 2s}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: single}
                spec:
                  model: %2$s
                  versions: [{name: queue, pool: single-queue, weight: 1}, {name: reject, pool: single-reject, weight: 0}]
                  overrides: [{header: x-aimesh-version, value: reject, version: reject}]
                  tokenizer: approximate
                """.formatted(single.instanceName(), SINGLE_MODEL)).start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (mesh != null) {
            mesh.close();
        }
        if (fleet != null) {
            fleet.close();
        }
        if (single != null) {
            single.close();
        }
    }

    @Test
    @Order(1)
    void everyRequest_landsOnTheEndpointTheFilterPicked() throws Exception {
        Map<String, Double> before = mesh.picks("fleet");
        Map<String, Integer> served = new HashMap<>();
        for (int i = 0; i < 60; i++) {
            HttpResponse<String> response = send(Map.of());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            served.merge(response.headers().firstValue("x-model-sim-instance").orElseThrow(), 1, Integer::sum);
        }
        Map<String, Double> after = mesh.picks("fleet");
        Map<String, Integer> picked = new HashMap<>();
        after.forEach((endpoint, count) -> {
            int delta = (int) (count - before.getOrDefault(endpoint, 0.0));
            if (delta > 0) {
                picked.put(endpoint, delta);
            }
        });
        assertThat(served).isEqualTo(picked);
        assertThat(served.keySet()).allMatch(fleet::isMember);
    }

    @Test
    @Order(2)
    void slowEndpoint_getsMeasurablyFewerRequests() throws Exception {
        // 8 clients in a closed loop. Round robin would give each endpoint a third (80 of 240); the slow one
        // serves one request at a time at a tenth of the speed, so its queue shows in its metrics and the
        // picker sends it little. A bound of a fifth leaves room for the scrape delay.
        Map<String, Integer> served = concurrently(8, 30, Map.of());
        int total = served.values().stream().mapToInt(Integer::intValue).sum();
        assertThat(total).isEqualTo(240);
        assertThat(served.getOrDefault(fleet.slow().instanceName(), 0)).as("slow endpoint's share of %s", served)
                .isLessThan(total / 5);
    }

    @Test
    @Order(3)
    void spoofedDestinationHeader_isIgnored() throws Exception {
        Map<String, Integer> served = concurrently(2, 20,
                Map.of("x-gateway-destination-endpoint", fleet.outsider().instanceName(), "x-aimesh-pool", "fleet"));
        assertThat(served).doesNotContainKey(fleet.outsider().instanceName());
        assertThat(served.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(40);
    }

    @Test
    @Order(4)
    void deadEndpoint_isAvoidedWithinABoundedTime_andReadmittedAfterRecovery() throws Exception {
        ModelSimServer victim = fleet.sims().get(1);
        int port = victim.port();
        victim.close();
        // Ejected after 3 failed scrapes 50 ms apart (each failing at once: connection refused); until
        // then a request picked for it fails. Within 3 s, 30 requests in a row succeed on the others.
        AtomicReference<String> lastFailure = new AtomicReference<>("none");
        try {
            await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(20)).until(() -> {
                for (int i = 0; i < 30; i++) {
                    HttpResponse<String> response = send(Map.of());
                    String instance = response.headers().firstValue("x-model-sim-instance").orElse("");
                    if (response.statusCode() != 200 || instance.equals(victim.instanceName())) {
                        lastFailure.set(response.statusCode() + " from '" + instance + "': " + response.body());
                        return false;
                    }
                }
                return true;
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("the dead endpoint was not avoided; last failure: " + lastFailure.get(), e);
        }
        ModelSimServer revived = ModelSimServer.start(ModelSimConfig.builder().port(port).model(MODEL).version("v1")
                .speed(20).maxSeqs(64).kvTokens(1 << 20).seed(12).build());
        fleet.sims().set(1, revived);
        // One successful scrape brings it back; it then gets its share again.
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20)).until(() ->
                concurrently(4, 5, Map.of()).containsKey(revived.instanceName()));
    }

    @Test
    @Order(5)
    void saturatedPool_thatRejects_answers429WithRetryAfter() throws Exception {
        // 6 clients, one sequence served at a time: once the scrape shows more than one waiting, the
        // pool is saturated and the rest are refused at once.
        List<HttpResponse<String>> answers = singlePool(Map.of("x-aimesh-version", "reject"));
        List<HttpResponse<String>> refused = answers.stream().filter(r -> r.statusCode() == 429).toList();
        assertThat(refused).as("429s of %d", answers.size()).isNotEmpty();
        assertThat(answers).allMatch(r -> r.statusCode() == 200 || r.statusCode() == 429);
        HttpResponse<String> one = refused.get(0);
        assertThat(one.headers().firstValue("retry-after")).hasValue("2");
        assertThat(one.headers().firstValue("x-aimesh-decision")).hasValue("shed reason=saturated pool=single-reject tenant=globex priority=standard");
        assertThat(one.body()).contains("\"code\":\"overloaded\"");
    }

    @Test
    @Order(6)
    void saturatedPool_thatQueues_servesEveryRequest() throws Exception {
        List<HttpResponse<String>> answers = singlePool(Map.of());
        assertThat(answers).extracting(HttpResponse::statusCode).containsOnly(200);
        String metrics = mesh.http().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mesh.filter().adminPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).containsPattern("aimesh_filter_picks_total\\{endpoint=\"\",outcome=\"queued\",pool=\"single-queue\"} [1-9]");
    }

    /** 6 clients send 4 requests each for the single-sequence model; the answers in any order. */
    private static List<HttpResponse<String>> singlePool(Map<String, String> headers) throws Exception {
        String body = "{\"model\":\"" + SINGLE_MODEL + "\",\"max_tokens\":24,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Tell a long story.\"}]}";
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<List<HttpResponse<String>>>> results = new ArrayList<>();
            for (int c = 0; c < 6; c++) {
                results.add(pool.submit(() -> {
                    List<HttpResponse<String>> answers = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        answers.add(mesh.post("/v1/chat/completions", Mesh.GLOBEX_KEY, body, headers));
                    }
                    return answers;
                }));
            }
            List<HttpResponse<String>> all = new ArrayList<>();
            for (Future<List<HttpResponse<String>>> result : results) {
                all.addAll(result.get());
            }
            return all;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Map<String, Integer> concurrently(int clients, int requestsEach, Map<String, String> headers)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                results.add(pool.submit(() -> {
                    List<String> instances = new ArrayList<>();
                    for (int i = 0; i < requestsEach; i++) {
                        HttpResponse<String> response = send(headers);
                        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                        instances.add(response.headers().firstValue("x-model-sim-instance").orElseThrow());
                    }
                    return instances;
                }));
            }
            Map<String, Integer> served = new HashMap<>();
            for (Future<List<String>> result : results) {
                result.get().forEach(instance -> served.merge(instance, 1, Integer::sum));
            }
            return served;
        } finally {
            pool.shutdownNow();
        }
    }

    private static HttpResponse<String> send(Map<String, String> headers) {
        String body = "{\"model\":\"" + MODEL + "\",\"max_tokens\":16,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Say something about GPUs.\"}]}";
        return mesh.post("/v1/chat/completions", Mesh.GLOBEX_KEY, body, headers);
    }
}
