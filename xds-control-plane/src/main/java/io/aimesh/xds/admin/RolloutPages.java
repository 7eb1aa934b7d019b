package io.aimesh.xds.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.aimesh.internal.AdminServer.Reply;
import io.aimesh.xds.rollout.RolloutController;
import io.aimesh.xds.rollout.RolloutStatus;
import java.util.Locale;
import java.util.Map;

/**
 * The rollouts' admin API, what {@code aimesh rollout} calls:
 * {@code GET /rollouts} (all), {@code GET /rollouts/MODEL} (one), and
 * {@code POST /rollouts/MODEL/ACTION} with ACTION one of pause, resume, abort, promote. MODEL is
 * the rollout's key (the model, {@code NAMESPACE/MODEL} outside the default scope), URL-encoded.
 */
public final class RolloutPages {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String PREFIX = "/rollouts";

    private RolloutPages() {
    }

    /** Answers {@code method} on {@code path} (decoded, starting with {@code /rollouts}). */
    public static Reply handle(RolloutController rollouts, String method, String path) {
        String rest = path.length() <= PREFIX.length() ? "" : path.substring(PREFIX.length() + 1);
        if (method.equals("GET")) {
            if (rest.isEmpty()) {
                return json(200, rollouts.statuses());
            }
            RolloutStatus status = rollouts.status(rest);
            return status == null ? error(404, "no rollout of model '" + rest + "'") : json(200, status);
        }
        int slash = rest.lastIndexOf('/');
        if (slash <= 0) {
            return error(404, "expected POST /rollouts/MODEL/ACTION (ACTION: pause, resume, abort, promote)");
        }
        RolloutController.Action action;
        try {
            action = RolloutController.Action.valueOf(rest.substring(slash + 1).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return error(404, "unknown action '" + rest.substring(slash + 1) + "' (expected: pause, resume, abort, promote)");
        }
        try {
            return json(200, rollouts.act(rest.substring(0, slash), action));
        } catch (IllegalArgumentException e) {
            return error(404, e.getMessage());
        } catch (IllegalStateException e) {
            return error(409, e.getMessage());
        }
    }

    private static Reply json(int status, Object value) {
        try {
            return new Reply(status, JSON.writeValueAsString(value) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Reply error(int status, String message) {
        return json(status, Map.of("error", message));
    }
}
