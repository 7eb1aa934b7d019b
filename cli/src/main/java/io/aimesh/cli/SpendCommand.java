package io.aimesh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "spend", mixinStandardHelpOptions = true,
        description = {"Print spend and budget per level and model, from an ai-filter's live ledger (its admin API's /spend).",
                "With --tenant, --team or --org: that account with the accounts above and below it."})
final class SpendCommand implements Callable<Integer> {

    /** At most one account to start from. */
    static final class Selection {
        @Option(names = "--tenant", paramLabel = "NAME", description = "A tenant: its keys, its team and organisation.")
        String tenant;

        @Option(names = "--team", paramLabel = "NAME", description = "A team: its tenants and keys, and its organisation.")
        String team;

        @Option(names = "--org", paramLabel = "NAME", description = "An organisation and everything under it.")
        String org;
    }

    @ArgGroup(exclusive = true)
    Selection selection;

    @Option(names = "--period", paramLabel = "YYYY-MM",
            description = "The month to show (its last moment, or now for the current one); the current periods without it.")
    String period;

    @Option(names = "--filter", defaultValue = "http://127.0.0.1:19080", paramLabel = "URL",
            description = "The ai-filter's admin address (default: ${DEFAULT-VALUE}).")
    URI filter;

    @Option(names = "--json", description = "Print the admin API's JSON as it is.")
    boolean json;

    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() throws InterruptedException {
        List<String> query = new ArrayList<>();
        if (selection != null) {
            add(query, "tenant", selection.tenant);
            add(query, "team", selection.team);
            add(query, "organization", selection.org);
        }
        add(query, "period", period);
        URI uri = filter.resolve("/spend" + (query.isEmpty() ? "" : "?" + String.join("&", query)));
        AdminCall call = AdminCall.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(), "aimesh spend",
                "the ai-filter's admin API at " + filter, err);
        if (call.exit() != 0) {
            return call.exit();
        }
        JsonNode body = call.body();
        if (json) {
            out.println(body.toPrettyString());
            return 0;
        }
        print(body);
        return 0;
    }

    private static void add(List<String> query, String name, String value) {
        if (value != null) {
            query.add(name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8));
        }
    }

    private void print(JsonNode body) {
        String currency = body.path("currency").asText();
        out.printf("spend at %s (%s%s)%n", body.path("at").asText(), currency,
                body.path("shared").asBoolean() ? ", shared by every replica through Redis" : ", this replica");
        out.printf("%-13s %-24s %-6s %-10s %14s %14s %14s  %s%n", "LEVEL", "NAME", "PERIOD", "BUCKET", "SPENT", "BUDGET",
                "LEFT", "RESETS");
        for (JsonNode account : body.path("accounts")) {
            JsonNode budgets = account.path("budgets");
            if (budgets.isEmpty()) {
                out.printf("%-13s %-24s %-6s%n", account.path("level").asText(), account.path("name").asText(), "-");
            }
            for (JsonNode budget : budgets) {
                out.printf("%-13s %-24s %-6s %-10s %14s %14s %14s  %s%n", account.path("level").asText(),
                        account.path("name").asText(), budget.path("period").asText(), budget.path("bucket").asText(),
                        budget.path("spent").asText(), budget.path("amount").asText(), budget.path("remaining").asText(),
                        budget.path("resetsAt").asText());
                budget.path("byModel").fields().forEachRemaining(model ->
                        out.printf("%-13s %-24s   model %-20s %14s%n", "", "", model.getKey(), model.getValue().asText()));
            }
        }
    }
}
