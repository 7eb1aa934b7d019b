package io.aimesh.filter.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.testing.Mesh;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * With {@code failureMode: open} and the filter down, a client's internal headers still choose
 * nothing: Envoy removes them before any filter, so a pool dedicated to a tenant stays out of reach
 * and the picked-endpoint path cannot be aimed at an address of the client's choosing. Regression:
 * {@code x-aimesh-pool} reached a dedicated pool and {@code x-gateway-destination-endpoint} sent the
 * request to any address.
 */
class FailOpenPoolsIT {
    private static final int REQUESTS = 12;
    private static ModelSimServer shared;
    private static ModelSimServer dedicated;
    private static ModelSimServer picked;
    /** Serves the model but is in no pool: nothing may reach it. */
    private static ModelSimServer outsider;
    private static Mesh mesh;

    @BeforeAll
    static void start() throws IOException {
        shared = sim("vip", "shared");
        dedicated = sim("vip", "acme-only");
        picked = sim("picky", "member");
        outsider = sim("picky", "outsider");
        mesh = Mesh.builder().filter("open").extraPolicies("""
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: vip-shared}
                spec:
                  endpoints: ["127.0.0.1:%d"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: vip-acme}
                spec:
                  endpoints: ["127.0.0.1:%d"]
                  dedicatedTo: {tenants: [acme]}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: vip}
                spec:
                  model: vip
                  versions: [{name: shared, pool: vip-shared, weight: 1}, {name: acme, pool: vip-acme, weight: 1}]
                  tokenizer: approximate
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: picky}
                spec:
                  endpoints: ["127.0.0.1:%d"]
                  balancing: {mode: picker}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: picky}
                spec:
                  model: picky
                  versions: [{name: v1, pool: picky, weight: 1}]
                  tokenizer: approximate
                """.formatted(shared.port(), dedicated.port(), picked.port())).start();
        mesh.stopFilter();
    }

    @AfterAll
    static void stop() throws IOException {
        mesh.close();
        for (ModelSimServer sim : new ModelSimServer[] {shared, dedicated, picked, outsider}) {
            sim.close();
        }
    }

    @Test
    void aClientsPoolHeader_neverReachesADedicatedPool() {
        for (String header : new String[] {"x-aimesh-pool", "x_aimesh_pool"}) {
            for (int i = 0; i < REQUESTS; i++) {
                HttpResponse<String> response = chat("vip", Map.of(header, "vip-acme", "x-aimesh-model", "vip"));
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.headers().firstValue("x-model-sim-instance")).as(header).contains("shared");
            }
        }
    }

    @Test
    void aClientsDestinationHeader_neverAimsThePickedPathOutsideThePool() {
        String elsewhere = "127.0.0.1:" + outsider.port();
        for (int i = 0; i < REQUESTS; i++) {
            HttpResponse<String> response = chat("picky", Map.of("x-aimesh-pool", "picky", "x-aimesh-model", "picky",
                    "x-gateway-destination-endpoint", elsewhere, "x_gateway_destination_endpoint", elsewhere));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("x-model-sim-instance")).contains("member");
        }
        assertThat(outsider.lastRequestHeaders()).as("the outsider was never called").isEmpty();
    }

    /** As a client claiming a private address in x-forwarded-for, which must not make it internal either. */
    private static HttpResponse<String> chat(String model, Map<String, String> headers) {
        headers = new java.util.HashMap<>(headers);
        headers.put("x-forwarded-for", "10.0.0.1");
        return mesh.post("/v1/chat/completions", null, "{\"model\":\"" + model + "\",\"max_tokens\":2,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", headers);
    }

    private static ModelSimServer sim(String model, String name) throws IOException {
        return ModelSimServer.start(ModelSimConfig.builder().port(0).model(model).version("v1").instanceName(name)
                .speed(20).maxSeqs(64).kvTokens(1 << 20).build());
    }
}
