package io.aimesh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.aimesh.filter.api.Sha256;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "explain", mixinStandardHelpOptions = true,
        description = "Run a request through an ai-filter's live config without sending it, and print every decision: "
                + "identity, model permission, each token limit and spend budget (left, reset), the version and why, the "
                + "pool and each endpoint's score, and the policy file:line each comes from. Exit 0 if it would be admitted, "
                + "1 if refused.")
final class ExplainCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Who who;

    static final class Who {
        @Option(names = "--tenant", paramLabel = "T", description = "The tenant, by name.")
        String tenant;

        @Option(names = "--api-key-file", paramLabel = "F",
                description = "A file holding the API key; only its SHA-256 leaves this process.")
        Path apiKeyFile;
    }

    @Option(names = "--model", required = true, paramLabel = "M", description = "The request's model.")
    String model;

    @Option(names = "--header", paramLabel = "K=V", description = "A request header (override, stickiness), repeatable.")
    List<String> headers = List.of();

    @Option(names = "--tokens", defaultValue = "100", paramLabel = "N",
            description = "The prompt's tokens (default: ${DEFAULT-VALUE}); the output is the model's default max_tokens.")
    long tokens;

    @Option(names = "--filter", defaultValue = "http://127.0.0.1:19080", paramLabel = "URL",
            description = "The ai-filter's admin address (default: ${DEFAULT-VALUE}).")
    URI filter;

    @Mixin
    ControlPlaneAdmin admin;

    @Option(names = "--json", description = "Print the filter's JSON as it is.")
    boolean json;

    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() throws InterruptedException {
        StringBuilder query = new StringBuilder("/explain?model=").append(encode(model)).append("&tokens=").append(tokens);
        if (who.tenant != null) {
            query.append("&tenant=").append(encode(who.tenant));
        } else {
            try {
                query.append("&key=").append(Sha256.hex(Files.readString(who.apiKeyFile).strip()));
            } catch (IOException e) {
                err.println("aimesh explain: --api-key-file: cannot read " + who.apiKeyFile);
                return 2;
            }
        }
        for (String header : headers) {
            int eq = header.indexOf('=');
            if (eq <= 0) {
                err.println("aimesh explain: --header " + header + ": expected NAME=VALUE");
                return 2;
            }
            query.append("&header=").append(encode(header.substring(0, eq) + ":" + header.substring(eq + 1)));
        }
        AdminCall call = AdminCall.send(HttpRequest.newBuilder(filter.resolve(query.toString())).timeout(Duration.ofSeconds(10))
                .build(), "aimesh explain", "the ai-filter's admin API at " + filter, err);
        if (call.exit() != 0) {
            return call.exit();
        }
        JsonNode body = call.body();
        if (json) {
            out.println(body.toPrettyString());
        } else {
            JsonNode sources = sources();
            out.println("filter config " + body.path("configVersion").asText());
            for (JsonNode step : body.path("steps")) {
                String source = step.path("source").asText("");
                String where = source.isEmpty() ? "" : sources == null ? "  [" + source + "]"
                        : "  [" + source + (sources.has(source) ? " " + sources.path(source).asText() : "") + "]";
                out.printf(Locale.ROOT, "%-10s %-8s %s%s%n", step.path("step").asText(), step.path("outcome").asText(),
                        step.path("detail").asText(), where);
            }
            out.println("verdict: " + body.path("verdict").asText());
            if (sources == null) {
                out.println("(policy files not shown: the control plane's admin API at " + admin.url + " did not answer)");
            }
        }
        return body.path("verdict").asText().equals("admitted") ? 0 : 1;
    }

    /** Where each policy resource is written, from the control plane; {@code null} when it cannot say. */
    private JsonNode sources() throws InterruptedException {
        AdminCall call = AdminCall.send(admin.request("/policy_sources").build(), "aimesh explain", admin.describe(),
                new PrintStream(java.io.OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8));
        return call.exit() == 0 ? call.body().path("sources") : null;
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

}
