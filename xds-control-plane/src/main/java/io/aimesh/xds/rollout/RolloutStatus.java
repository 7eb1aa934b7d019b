package io.aimesh.xds.rollout;

/**
 * A rollout as the admin API, {@code /config_dump} and {@code aimesh rollout status} show it.
 *
 * @param model the rollout's key: the model name, {@code NAMESPACE/MODEL} outside the default scope
 * @param state {@code progressing}, {@code paused}, {@code promoted}, {@code rolled-back} or {@code aborted}
 * @param step the step it is at or ended on, 1-based
 * @param canaryWeight the canary's percent of the traffic now
 * @param stepSince when the step began (ISO-8601)
 * @param waitingOn what holds the step back from passing, or {@code null}
 * @param reason why it ended (the failed rule and its numbers, or the operator's action), or {@code null}
 * @param endedAt when it ended (ISO-8601), or {@code null}
 */
public record RolloutStatus(String model, String baseline, String canary, String state, int step, int steps,
                            int canaryWeight, String stepSince, long stepBaselineRequests, long stepCanaryRequests,
                            String waitingOn, String reason, String endedAt) {
}
