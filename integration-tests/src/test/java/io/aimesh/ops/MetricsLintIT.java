package io.aimesh.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.testing.Mesh;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every {@code /metrics} page the project serves (control plane, ai-filter, model-sim), after
 * traffic that fills the series (admitted, refused, streamed, priced and budgeted requests), passes
 * Prometheus' own linter, {@code promtool check metrics} (Debian's {@code prometheus} package,
 * installed by {@code .ci/run}). One finding is allowed, on model-sim's pages only: the colons of
 * vLLM's own metric names ({@code vllm:num_requests_waiting}), which model-sim serves as vLLM does
 * because that is what the picker and every vLLM dashboard read.
 *
 * <p>The shipped Grafana dashboard ({@code deploy/grafana/aimesh.json}) is checked against the same
 * pages: every query is valid PromQL to promtool, and every metric it reads is one these pages
 * serve.
 */
class MetricsLintIT {
    private static final String KEY = "initrode-test-key";
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    /** Series that exist only once their feature runs (the mesh here has none of them), and what makes them. */
    private static final Map<String, String> ONLY_WITH = Map.of(
            "aimesh_filter_picks_total", "a picker pool", "aimesh_filter_shadow_requests_total", "a ModelRoute mirror",
            "aimesh_rollout_canary_weight", "a rollout", "aimesh_rollout_step", "a rollout",
            "aimesh_xds_nacks_total", "a rejected config", "aimesh_xds_out_of_scope_requests_total",
            "a node asking for another scope's resources");

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
            java.util.Set<String> served = new java.util.TreeSet<>();
            for (Map.Entry<String, URI> page : pages.entrySet()) {
                String text = mesh.http().send(HttpRequest.newBuilder(page.getValue()).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                text.lines().filter(line -> line.startsWith("# TYPE ")).forEach(line -> served.add(line.split(" ")[2]));
                assertThat(text).as(page.getKey()).contains("# TYPE");
                String verdict = check(promtool, text, page.getKey().startsWith("model-sim"));
                if (!verdict.isEmpty()) {
                    problems.add(page.getKey() + ":\n" + verdict);
                }
            }
            assertThat(problems).as("promtool check metrics").isEmpty();
            checkGrafana(promtool, served);
            String filterPage = mesh.http().send(HttpRequest.newBuilder(pages.get("ai-filter")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(filterPage).as("the traffic filled the series worth linting")
                    .contains("aimesh_spend_total{").contains("aimesh_budget_remaining{").contains("aimesh_budget_alerts_total{");
        }
    }

    /** Every query of the Grafana dashboard parses (promtool check rules) and reads only metrics the pages serve. */
    private static void checkGrafana(String promtool, java.util.Set<String> served) throws IOException, InterruptedException {
        JsonNode dashboard = new ObjectMapper().readTree(ROOT.resolve("deploy/grafana/aimesh.json").toFile());
        List<String> queries = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            panel.path("targets").forEach(target -> queries.add(target.path("expr").asText()));
        }
        assertThat(queries).hasSizeGreaterThan(20);
        StringBuilder rules = new StringBuilder("groups:\n  - name: grafana\n    rules:\n");
        java.util.Set<String> missing = new java.util.TreeSet<>();
        Pattern metric = Pattern.compile("\\b(aimesh_[a-z0-9_]+|gen_ai_[a-z0-9_]+|vllm:[a-z0-9_:]+)");
        for (int i = 0; i < queries.size(); i++) {
            String query = queries.get(i);
            rules.append("      - record: aimesh:grafana_query_").append(i).append("\n        expr: '")
                    .append(query.replace("'", "''")).append("'\n");
            Matcher names = metric.matcher(query.replaceAll("by \\([^)]*\\)", ""));
            while (names.find()) {
                String name = names.group(1).replaceFirst("_(bucket|sum|count)$", "");
                if (!served.contains(name) && !ONLY_WITH.containsKey(name)) {
                    missing.add(name);
                }
            }
        }
        assertThat(missing).as("metrics the dashboard reads that no /metrics page serves").isEmpty();
        Path file = Files.createTempFile("aimesh-grafana-", ".yaml");
        Files.writeString(file, rules);
        Process check = new ProcessBuilder(promtool, "check", "rules", file.toString()).redirectErrorStream(true).start();
        String said = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(check.exitValue()).as(said).isZero();
        Files.delete(file);
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
