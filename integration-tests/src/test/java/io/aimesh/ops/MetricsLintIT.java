package io.aimesh.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.testing.Mesh;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Every {@code /metrics} page the project serves (control plane, ai-filter, model-sim), after
 * traffic that fills the series (admitted, refused, streamed, priced and budgeted requests), passes
 * Prometheus' own linter, {@code promtool check metrics} (Debian's {@code prometheus} package,
 * installed by {@code .ci/run}). One finding is allowed, on model-sim's pages only: the colons of
 * vLLM's own metric names ({@code vllm:num_requests_waiting}), which model-sim serves as vLLM does
 * because that is what the picker and every vLLM dashboard read.
 */
class MetricsLintIT {
    private static final String KEY = "initrode-test-key";

    @Test
    void everyMetricsPage_passesPromtool() throws Exception {
        String promtool = System.getenv().getOrDefault("AIMESH_PROMTOOL", "promtool");
        try (Mesh mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(40).extraPolicies("""
                apiVersion: aimesh.io/v1alpha1
                kind: Organization
                metadata: {name: acme-corp}
                spec: {budgets: [{amount: "100", period: month}]}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Team
                metadata: {name: search}
                spec: {organization: acme-corp}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: initrode}
                spec:
                  team: search
                  identity: {apiKeys: [{sha256: "sha256:%s", budgets: [{amount: "0.01", period: day, alertAt: [10]}]}]}
                """.formatted(Mesh.sha256(KEY))).start()) {
            String before = mesh.filter().configVersion();
            mesh.writePolicy("routes.yaml", mesh.route(1, -1) + "  pricing: {input: \"100\", output: \"200\"}\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> !mesh.filter().configVersion().equals(before));
            for (int i = 0; i < 6; i++) {
                mesh.chat(Mesh.ACME_KEY, i % 2 == 1, 8, Map.of()); // the fourth or so meets acme's token limit
                mesh.chat(KEY, i % 2 == 0, 8, Map.of()); // three or so fit the key's day
                mesh.chat(null, false, 8, Map.of()); // no identity
            }
            Map<String, URI> pages = new LinkedHashMap<>();
            pages.put("control plane", URI.create("http://127.0.0.1:" + mesh.controlPlane().adminPort() + "/metrics"));
            pages.put("ai-filter", URI.create("http://127.0.0.1:" + mesh.filter().adminPort() + "/metrics"));
            for (ModelSimServer sim : mesh.sims()) {
                pages.put("model-sim " + sim.port(), URI.create("http://127.0.0.1:" + sim.port() + "/metrics"));
            }
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, URI> page : pages.entrySet()) {
                String text = mesh.http().send(HttpRequest.newBuilder(page.getValue()).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertThat(text).as(page.getKey()).contains("# TYPE");
                String verdict = check(promtool, text, page.getKey().startsWith("model-sim"));
                if (!verdict.isEmpty()) {
                    problems.add(page.getKey() + ":\n" + verdict);
                }
            }
            assertThat(problems).as("promtool check metrics").isEmpty();
            String filterPage = mesh.http().send(HttpRequest.newBuilder(pages.get("ai-filter")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(filterPage).as("the traffic filled the series worth linting")
                    .contains("aimesh_spend_total{").contains("aimesh_budget_remaining{").contains("aimesh_budget_alerts_total{");
        }
    }

    /**
     * What promtool says of a page (it reads standard input): empty when it exits 0 with nothing to
     * say, or only reports vLLM's colons where they are allowed (exit 3 is "lint findings", 1 a page it
     * cannot parse).
     */
    private static String check(String promtool, String page, boolean vllmNames) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(promtool, "check", "metrics").redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("promtool not found (" + promtool + "): install Debian's prometheus package"
                    + " (.ci/run does) or set AIMESH_PROMTOOL", e);
        }
        try (var in = process.getOutputStream()) {
            in.write(page.getBytes(StandardCharsets.UTF_8));
        }
        String said = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String findings = said.lines()
                .filter(line -> !(vllmNames && line.matches("vllm:[a-z0-9_]+ metric names should not contain ':'")))
                .collect(java.util.stream.Collectors.joining("\n"));
        boolean ok = process.exitValue() == 0 || process.exitValue() == 3 && findings.isEmpty() && !said.isEmpty();
        return ok && findings.isEmpty() ? "" : said + " (exit " + process.exitValue() + ")";
    }
}
