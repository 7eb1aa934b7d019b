package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * A token budget over a window.
 *
 * @param models the models it applies to; {@code ["*"]} means all models together
 * @param window the window length: one minute, hour or day
 * @param tokens tokens allowed per window, {@code > 0}
 * @param count which tokens are counted
 * @param inputWeight with {@link Count#WEIGHTED}: cost of one input token
 * @param outputWeight with {@link Count#WEIGHTED}: cost of one output token
 * @param burst extra tokens that may be spent above the steady rate, {@code >= 0}
 */
public record TokenLimit(List<String> models, Duration window, long tokens, Count count,
                         int inputWeight, int outputWeight, long burst) {
    public TokenLimit {
        models = List.copyOf(models);
        requireNonNull(window, "window");
        requireNonNull(count, "count");
        if (tokens <= 0) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: > 0)");
        }
        if (burst < 0) {
            throw new IllegalArgumentException("burst: " + burst + " (expected: >= 0)");
        }
    }

    /** Which tokens a limit counts. */
    public enum Count {
        INPUT, OUTPUT, TOTAL, WEIGHTED
    }
}
