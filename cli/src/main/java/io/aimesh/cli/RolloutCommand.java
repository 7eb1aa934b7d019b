package io.aimesh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rollout", mixinStandardHelpOptions = true,
        description = "Show or steer the control plane's rollouts: status [MODEL], pause, resume, abort or promote MODEL. "
                + "MODEL is the model name (NAMESPACE/MODEL outside the default scope).")
final class RolloutCommand implements Callable<Integer> {
    private static final List<String> ACTIONS = List.of("status", "pause", "resume", "abort", "promote");

    @Parameters(index = "0", paramLabel = "ACTION", description = "status, pause, resume, abort or promote.")
    String action;

    @Parameters(index = "1", arity = "0..1", paramLabel = "MODEL", description = "The rollout's model; status shows all without it.")
    String model;

    @Mixin
    ControlPlaneAdmin admin;

    @Option(names = "--json", description = "Print the admin API's JSON as it is.")
    boolean json;

    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() throws InterruptedException {
        if (!ACTIONS.contains(action)) {
            err.println("aimesh rollout: unknown action '" + action + "' (expected: " + String.join(", ", ACTIONS) + ")");
            return 2;
        }
        if (model == null && !action.equals("status")) {
            err.println("aimesh rollout " + action + ": needs MODEL");
            return 2;
        }
        String path = "/rollouts" + (model == null ? "" : "/" + URLEncoder.encode(model, StandardCharsets.UTF_8).replace("+", "%20"));
        HttpRequest.Builder request = admin.request(path + (action.equals("status") ? "" : "/" + action));
        if (!action.equals("status")) {
            request.header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}"));
        }
        AdminCall call = AdminCall.send(request.build(), "aimesh rollout " + action,
                admin.describe(), err);
        if (call.exit() != 0) {
            return call.exit();
        }
        JsonNode body = call.body();
        if (json) {
            out.println(body.toPrettyString());
        } else if (body.isArray()) {
            if (body.isEmpty()) {
                out.println("no rollouts");
            }
            body.forEach(this::print);
        } else {
            print(body);
        }
        return 0;
    }

    private void print(JsonNode status) {
        out.println(status.path("model").asText() + ": " + status.path("state").asText() + ", step "
                + status.path("step").asInt() + "/" + status.path("steps").asInt() + ", " + status.path("canary").asText()
                + " at " + status.path("canaryWeight").asInt() + " % (baseline " + status.path("baseline").asText() + ")");
        out.println("  step since " + status.path("stepSince").asText() + ": " + status.path("stepCanaryRequests").asLong()
                + " canary and " + status.path("stepBaselineRequests").asLong() + " baseline requests");
        if (!status.path("waitingOn").isNull() && !status.path("waitingOn").isMissingNode()) {
            out.println("  waiting on: " + status.path("waitingOn").asText());
        }
        if (!status.path("reason").isNull() && !status.path("reason").isMissingNode()) {
            out.println("  " + status.path("state").asText() + " at " + status.path("endedAt").asText() + ": "
                    + status.path("reason").asText());
        }
    }
}
