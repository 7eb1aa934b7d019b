package io.aimesh.bench.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The rollout-detection simulation, briefly: one rate, a few streams. */
class RolloutDetectionSmokeTest {

    @Test
    void atTwentyRequestsASecond_aFailingCanaryIsRolledBackInSeconds_andFixedIntervalsTakeMinutes() throws Exception {
        RequestStream.Fault fault = RolloutDetectionBenchmark.FAULTS.get(0); // fail-rate 1.0
        for (long seed = 1; seed <= 3; seed++) {
            List<RequestStream.Request> stream = RequestStream.generate(seed, 20, RolloutDetectionBenchmark.WEIGHT,
                    RolloutDetectionBenchmark.TURNS_BAD_AT + RolloutDetectionBenchmark.FOLLOW, fault,
                    RolloutDetectionBenchmark.TURNS_BAD_AT, Double.POSITIVE_INFINITY);
            RolloutDetectionBenchmark.Outcome mine = RolloutDetectionBenchmark.outcome(stream, fault,
                    RolloutDetectionBenchmark.aimesh(stream, 0.1, true) + RolloutDetectionBenchmark.PUSH_SECONDS);
            RolloutDetectionBenchmark.Outcome flagger = RolloutDetectionBenchmark.outcome(stream, fault,
                    FixedIntervalDefaults.FLAGGER.rollbackTime(stream, 30, RolloutDetectionBenchmark.TURNS_BAD_AT
                            + RolloutDetectionBenchmark.FOLLOW));

            assertThat(mine.seconds()).isBetween(0.0, 15.0);
            assertThat(mine.bad()).isLessThanOrEqualTo(mine.windowRequests() / 100 + 1);
            assertThat(flagger.seconds()).isGreaterThan(60);
        }
        assertThat(RolloutDetectionBenchmark.table(List.of(20.0), 1)).contains("| fail-rate 1.0 | 20 |");
    }

    @Test
    void lateChecks_catchAHangingCanarySooner_onTheSameStreams() throws Exception {
        RequestStream.Fault fault = RolloutDetectionBenchmark.FAULTS.stream().filter(f -> f.name().equals("+2 s"))
                .findFirst().orElseThrow();
        double with = 0;
        double without = 0;
        for (long seed = 1; seed <= 3; seed++) {
            List<RequestStream.Request> stream = RequestStream.generate(seed, 20, RolloutDetectionBenchmark.WEIGHT,
                    RolloutDetectionBenchmark.TURNS_BAD_AT + 120, fault, RolloutDetectionBenchmark.TURNS_BAD_AT,
                    Double.POSITIVE_INFINITY);
            with += RolloutDetectionBenchmark.aimesh(stream, 0.1, true);
            without += RolloutDetectionBenchmark.aimesh(stream, 0.1, false);
        }
        // A +2 s canary's requests pass the ~600 ms threshold 1.4 s before they end.
        assertThat(with).isLessThan(without - 3 * 0.5);
    }
}
