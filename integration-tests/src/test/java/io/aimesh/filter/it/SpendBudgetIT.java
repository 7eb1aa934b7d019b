package io.aimesh.filter.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aimesh.filter.api.Money;
import io.aimesh.testing.AnswerUsage;
import io.aimesh.testing.Mesh;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Spend budgets on the real path: Envoy, the ai-filter with its spend journal, model-sim. Tenant
 * initrode (team search of organisation acme-corp) spends through its key until the team's monthly
 * budget refuses; every answer's real cost is what the ledger holds, the refusal says who refused,
 * what is left and when it resets, and a restarted filter has lost nothing.
 */
class SpendBudgetIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "initrode-test-key";
    /** Per million tokens: input 100, cached input 50, output 200 (expensive, so a few requests spend the budget). */
    private static final long INPUT = 100_000_000;
    private static final long OUTPUT = 200_000_000;
    private static final String TEAM_BUDGET = "0.05";
    private Mesh mesh;

    @AfterEach
    void stop() throws Exception {
        if (mesh != null) {
            mesh.close();
        }
    }

    private static String policies() {
        return """
                apiVersion: aimesh.io/v1alpha1
                kind: Organization
                metadata: {name: acme-corp}
                spec:
                  budgets: [{amount: "100", period: month}]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Team
                metadata: {name: search}
                spec:
                  organization: acme-corp
                  budgets: [{amount: "%s", period: month, alertAt: [50]}]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: initrode}
                spec:
                  team: search
                  budgets: [{amount: "1", period: 30d}]
                  identity:
                    apiKeys:
                      - sha256: "sha256:%s"
                        name: ci
                        budgets: [{amount: "1", period: day}]
                """.formatted(TEAM_BUDGET, Mesh.sha256(KEY));
    }

    @Test
    void aTeamBudget_holdsOnEveryAnswer_refusesWithItsNumbers_andSurvivesARestart() throws Exception {
        Path journal = Files.createTempDirectory("aimesh-spend-it-");
        mesh = Mesh.builder().filter("closed").defaultMaxTokens(32).spendDirectory(journal).extraPolicies(policies()).start();
        String before = mesh.filter().configVersion();
        mesh.writePolicy("routes.yaml", mesh.route(1, -1) + "  pricing: {input: \"100\", cachedInput: \"50\", output: \"200\"}\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> !mesh.filter().configVersion().equals(before));

        long charged = 0;
        long budget = Money.parseMicros(TEAM_BUDGET);
        HttpResponse<String> refused = null;
        for (int i = 0; i < 100 && refused == null; i++) {
            boolean stream = i % 2 == 1;
            HttpResponse<String> answer = mesh.post("/v1/chat/completions", KEY, "{\"model\":\"" + Mesh.MODEL
                    + "\",\"max_tokens\":8," + (stream ? "\"stream\":true,\"stream_options\":{\"include_usage\":true}," : "")
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"What does a budget of money per month mean?\"}]}",
                    Map.of());
            if (answer.statusCode() == 429) {
                refused = answer;
                break;
            }
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            assertThat(answer.headers().firstValue("x-aimesh-budget-remaining")).isPresent();
            charged += cost(answer.body(), stream);
        }

        assertThat(refused).as("the team's budget refused at last").isNotNull();
        assertThat(refused.headers().firstValue("x-aimesh-decision").orElseThrow())
                .startsWith("limited reason=budget level=team name=search period=month tenant=initrode");
        JsonNode error = JSON.readTree(refused.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("insufficient_quota");
        long left = Money.parseMicros(refused.headers().firstValue("x-aimesh-budget-remaining").orElseThrow());
        String nextMonth = LocalDate.now(ZoneOffset.UTC).withDayOfMonth(1).plusMonths(1) + "T00:00:00Z";
        assertThat(refused.headers().firstValue("x-aimesh-budget-reset")).hasValue(nextMonth);
        JsonNode team = account(spend(), "team", "search");
        long spent = Money.parseMicros(team.path("budgets").get(0).path("spent").asText());
        System.out.printf("SpendBudgetIT: team spent %s of %s (%s left at the refusal); the answers' usage cost %s%n",
                Money.format(spent), TEAM_BUDGET, Money.format(left), Money.format(charged));
        assertThat(spent).as("the ledger holds exactly what the answers cost").isEqualTo(charged);
        assertThat(spent).isLessThanOrEqualTo(budget);
        assertThat(spent + left).isEqualTo(budget);
        assertThat(team.path("budgets").get(0).path("byModel").path(Mesh.MODEL).asText()).isEqualTo(Money.format(spent));
        assertThat(account(spend(), "key", "initrode.ci").path("budgets").get(0).path("spent").asText())
                .isEqualTo(Money.format(spent));
        String alert = "aimesh_budget_alerts_total{level=\"team\",name=\"search\",percent=\"50\",period=\"month\"} 1.0";
        String metrics = metrics();
        assertThat(metrics).contains(alert);
        assertThat(metric(metrics, "aimesh_spend_total{level=\"team\",model=\"llama\",name=\"search\"}")).isCloseTo(spent / 1e6,
                org.assertj.core.data.Offset.offset(1e-9));
        assertThat(metric(metrics, "aimesh_budget_remaining{level=\"team\",name=\"search\"}")).isCloseTo(left / 1e6,
                org.assertj.core.data.Offset.offset(1e-9));

        mesh.stopFilter();
        mesh.startFilter(); // the same journal: nothing forgotten

        JsonNode again = account(spend(), "team", "search");
        assertThat(Money.parseMicros(again.path("budgets").get(0).path("spent").asText())).isEqualTo(spent);
        assertThat(mesh.chat(KEY, false, 8, Map.of()).statusCode()).as("no fresh budget after a restart").isEqualTo(429);
        assertThat(metrics()).as("announced once: not again after the restart").doesNotContain("aimesh_budget_alerts_total{");
    }

    /** What an answer's usage costs at the route's prices (model-sim reports no cached tokens). */
    private static long cost(String body, boolean stream) throws Exception {
        AnswerUsage usage = AnswerUsage.read(body, stream);
        if (usage == null) {
            throw new AssertionError("no usage in " + body);
        }
        long cached = usage.cachedTokens();
        return Money.cost(usage.promptTokens() - cached, INPUT) + Money.cost(cached, INPUT / 2)
                + Money.cost(usage.completionTokens(), OUTPUT);
    }

    private JsonNode spend() throws Exception {
        HttpResponse<String> response = mesh.http().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + mesh.filter().adminPort() + "/spend?tenant=initrode")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private String metrics() throws Exception {
        return mesh.http().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mesh.filter().adminPort() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static double metric(String metrics, String series) {
        return metrics.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no " + series));
    }

    private static JsonNode account(JsonNode spend, String level, String name) {
        for (JsonNode account : spend.path("accounts")) {
            if (account.path("level").asText().equals(level) && account.path("name").asText().equals(name)) {
                return account;
            }
        }
        throw new AssertionError("no " + level + " " + name + " in " + spend.toPrettyString());
    }
}
