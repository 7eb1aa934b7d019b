package io.aimesh.xds;

import io.aimesh.testing.Mesh;
import io.aimesh.testing.Traffic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Model-version canaries end to end: policy files, the control plane, a real Envoy and
 * model-sim. Runs once over state-of-the-world ADS and once over delta ADS (the subclasses).
 */
abstract class CanaryRoutingIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    Mesh mesh;

    abstract boolean delta();

    @AfterEach
    void tearDown() throws Exception {
        if (mesh != null) {
            mesh.close();
        }
    }

    @Test
    void weightedSplit_holdsNinetyTenWithinSamplingError() throws Exception {
        mesh = Mesh.builder().delta(delta()).canary(90, 10).start();
        int n = 2000;

        Traffic traffic = mesh.traffic().send(n, 16, Map.of());

        assertThat(traffic.failures()).isEmpty();
        // v2's count is Binomial(n, 0.1): sd = sqrt(n p (1-p)) ≈ 13.4 for n = 2000. A band of 4.9 sd
        // fails a correct split about once in a million runs, yet catches a 90/10 served as 85/15.
        double sd = Math.sqrt(n * 0.1 * 0.9);
        assertThat((double) traffic.count("v2")).isBetween(n * 0.1 - 4.9 * sd, n * 0.1 + 4.9 * sd);
        assertThat(traffic.count("v1") + traffic.count("v2")).isEqualTo(n);
        assertThat(traffic.byInstance()).hasSize(4);
    }

    @Test
    void headerOverride_alwaysWinsOverWeights() throws Exception {
        mesh = Mesh.builder().delta(delta()).canary(90, 10).start();

        Traffic forcedV2 = mesh.traffic().send(300, 8, Map.of("x-aimesh-version", "v2"));
        Traffic forcedV1 = mesh.traffic().send(300, 8, Map.of("x-aimesh-version", "v1"));

        assertThat(forcedV2.failures()).isEmpty();
        assertThat(forcedV2.count("v2")).isEqualTo(300);
        assertThat(forcedV1.count("v1")).isEqualTo(300);
    }

    @Test
    void weightEdit_convergesInEnvoyWithinTwoSecondsWithoutFailedRequests() throws Exception {
        mesh = Mesh.builder().delta(delta()).canary(90, 10).start();
        Traffic background = mesh.traffic().start(4);
        await().until(() -> background.ok() > 50);

        long edited = System.nanoTime();
        mesh.writePolicy("routes.yaml", mesh.route(0, 100));
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(10))
                .until(() -> weights().equals(Map.of("pool_llama-v2", 100)));
        long convergedMillis = (System.nanoTime() - edited) / 1_000_000;
        Traffic after = mesh.traffic().send(200, 8, Map.of());
        background.stop();

        System.out.printf("FIGURE %s change->envoy-config %d ms%n", delta() ? "delta" : "sotw", convergedMillis);
        assertThat(background.failures()).isEmpty();
        assertThat(after.failures()).isEmpty();
        assertThat(after.count("v2")).isEqualTo(200);
    }

    @Test
    void invalidEdit_keepsServingThePreviousConfigAndReportsTheError() throws Exception {
        mesh = Mesh.builder().delta(delta()).canary(90, 10).start();
        Map<String, String> before = Map.of("route", mesh.controlPlane().hub().current().version());
        Map<String, Integer> weightsBefore = weights();
        CapturedLog log = CapturedLog.of(PolicyReloader.class);

        mesh.writePolicy("routes.yaml", mesh.route(90, 10).replace("weight: 10", "weight: ten"));

        await().atMost(Duration.ofSeconds(5)).until(() -> !mesh.controlPlane().policyStatus().errors().isEmpty());
        String expected = "routes.yaml:8:42: ModelRoute/llama spec.versions[1].weight: expected an integer, got a string 'ten'";
        assertThat(mesh.controlPlane().policyStatus().errors()).containsExactly(expected);
        JsonNode nodes = JSON.readTree(adminGet("/nodes"));
        assertThat(nodes.at("/policy/status").asText()).isEqualTo("rejected");
        assertThat(nodes.at("/policy/errors/0").asText()).isEqualTo(expected);
        assertThat(nodes.at("/nodes/0/id").asText()).startsWith("test-");
        assertThat(log.messages()).anySatisfy(m -> assertThat(m).contains("policies rejected", expected));
        assertThat(mesh.controlPlane().hub().current().version()).isEqualTo(before.get("route"));
        assertThat(weights()).isEqualTo(weightsBefore);
        Traffic traffic = mesh.traffic().send(100, 8, Map.of());
        assertThat(traffic.failures()).isEmpty();
        log.close();
    }

    @Test
    void controlPlaneRestart_underTraffic_failsNoRequestAndEnvoyResyncs() throws Exception {
        mesh = Mesh.builder().delta(delta()).canary(90, 10).start();
        Traffic background = mesh.traffic().start(4);
        await().until(() -> background.ok() > 50);

        mesh.controlPlane().close();
        long whileDown = background.ok();
        await().until(() -> background.ok() > whileDown + 50); // Envoy serves on without its control plane
        mesh.restartControlPlane();
        await().atMost(Duration.ofSeconds(10)).until(() -> mesh.controlPlane().nodes().nodes().size() == 1
                && mesh.controlPlane().nodes().nodes().get(0).ackedVersions().containsKey("route"));
        mesh.writePolicy("routes.yaml", mesh.route(0, 100));
        await().atMost(Duration.ofSeconds(2)).until(() -> weights().equals(Map.of("pool_llama-v2", 100)));
        background.stop();

        assertThat(background.failures()).isEmpty();
        assertThat(background.ok()).isGreaterThan(whileDown);
    }

    @Test
    void rejectedConfig_isReportedAndNotResent() throws Exception {
        mesh = Mesh.builder().delta(delta()).canary(90, 10).start();
        String goodEndpoints = mesh.controlPlane().hub().current().version(io.aimesh.xds.snapshot.ResourceType.ENDPOINT);

        mesh.controlPlane().hub().publish(BadConfig.withUnparsableEndpoint(mesh.controlPlane().hub().current()));

        await().atMost(Duration.ofSeconds(5)).until(() -> mesh.controlPlane().nodes().nodes().get(0).lastNack() != null);
        var nack = mesh.controlPlane().nodes().nodes().get(0).lastNack();
        assertThat(nack.type()).isEqualTo("endpoint");
        assertThat(nack.message()).contains("not-an-ip");
        double pushes = pushes("endpoint");
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> pushes("endpoint") == pushes);
        assertThat(mesh.controlPlane().nodes().nodes().get(0).ackedVersions().get("endpoint")).isEqualTo(goodEndpoints);
        Traffic traffic = mesh.traffic().send(100, 8, Map.of());
        assertThat(traffic.failures()).isEmpty();
    }

    @Test
    void routing_usesTheBodysModelAndIgnoresASpoofedModelHeader() throws Exception {
        mesh = Mesh.builder().delta(delta()).canary(90, 10).start();
        var client = java.net.http.HttpClient.newHttpClient();
        java.util.function.BiFunction<String, String, java.net.http.HttpResponse<String>> post = (header, model) -> {
            var request = java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + mesh.listenerPort() + "/v1/chat/completions"))
                    .header("content-type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(Traffic.BODY.formatted(model)));
            if (header != null) {
                request.header("x-aimesh-model", header);
            }
            try {
                return client.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };

        var byBody = post.apply(null, Mesh.MODEL);
        var spoofed = post.apply(Mesh.MODEL, "no-such-model");

        assertThat(byBody.statusCode()).isEqualTo(200);
        assertThat(byBody.headers().firstValue("x-model-sim-version")).isPresent();
        assertThat(spoofed.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(spoofed.body()).at("/error/code").asText()).isEqualTo("model_not_found");
    }

    /** The weights of the model's weighted route as Envoy itself reports them. */
    Map<String, Integer> weights() throws Exception {
        JsonNode dump = JSON.readTree(mesh.envoy().admin("/config_dump?resource=dynamic_route_configs"));
        Map<String, Integer> weights = new HashMap<>();
        for (JsonNode config : dump.path("configs")) {
            for (JsonNode host : config.at("/route_config/virtual_hosts")) {
                for (JsonNode route : host.path("routes")) {
                    if (route.path("name").asText().equals("llama")) {
                        for (JsonNode cluster : route.at("/route/weighted_clusters/clusters")) {
                            weights.put(cluster.path("name").asText(), cluster.path("weight").asInt());
                        }
                    }
                }
            }
        }
        return weights;
    }

    double pushes(String type) throws Exception {
        for (String line : adminGet("/metrics").split("\n")) {
            if (line.startsWith("aimesh_xds_pushes_total{type=\"" + type + "\"}")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    String adminGet(String path) throws Exception {
        var client = java.net.http.HttpClient.newHttpClient();
        return client.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + mesh.controlPlane().adminPort() + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    /** Captures what a class logs through java.util.logging (the System.Logger backend). */
    static final class CapturedLog extends Handler {
        private final Logger logger;
        private final java.util.List<String> messages = new java.util.concurrent.CopyOnWriteArrayList<>();

        private CapturedLog(Logger logger) {
            this.logger = logger;
        }

        static CapturedLog of(Class<?> type) {
            CapturedLog log = new CapturedLog(Logger.getLogger(type.getName()));
            log.logger.addHandler(log);
            return log;
        }

        java.util.List<String> messages() {
            return messages;
        }

        @Override
        public void publish(LogRecord record) {
            messages.add(record.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }
}
