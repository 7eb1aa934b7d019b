package io.aimesh.picker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The validation of the configuration records: {@link ScorerWeights}, {@link Thresholds}, {@link MonitorOptions}. */
class PickConfigTest {

    @Test
    void scorerWeights_rejectNegativeOrNonFiniteWeights() {
        assertThatThrownBy(() -> new ScorerWeights(-1, 1, 1, 1, 1)).hasMessage("queue: -1.0 (expected: 0 to 1000.0)");
        assertThatThrownBy(() -> new ScorerWeights(1, Double.NaN, 1, 1, 1)).hasMessage("kvCache: NaN (expected: 0 to 1000.0)");
        assertThatThrownBy(() -> new ScorerWeights(1, 1, 1, Double.POSITIVE_INFINITY, 1))
                .hasMessage("prefixAffinity: Infinity (expected: 0 to 1000.0)");
    }

    @Test
    void thresholds_rejectValuesOutOfRange() {
        assertThatThrownBy(() -> new Thresholds(0, 0.8, 0, 2)).hasMessage("maxQueue: 0 (expected: >= 1)");
        assertThatThrownBy(() -> new Thresholds(5, 0, 0, 2)).hasMessage("maxKvCacheUsage: 0.0 (expected: above 0, at most 1)");
        assertThatThrownBy(() -> new Thresholds(5, 1.1, 0, 2)).hasMessage("maxKvCacheUsage: 1.1 (expected: above 0, at most 1)");
        assertThatThrownBy(() -> new Thresholds(5, 0.8, -1, 2)).hasMessage("prefixMaxQueue: -1 (expected: >= 0)");
        assertThatThrownBy(() -> new Thresholds(5, 0.8, 0, -1)).hasMessage("loraMaxQueue: -1 (expected: >= 0)");
        assertThatThrownBy(() -> new Thresholds(5, 0.8, 0, 2, -1)).hasMessage("maxInFlight: -1 (expected: >= 0)");
    }

    @Test
    void monitorOptions_ofDerivesTimeoutAndStalenessFromTheInterval() {
        assertThat(MonitorOptions.DEFAULT).isEqualTo(new MonitorOptions(Duration.ofMillis(200), Duration.ofMillis(400), 3,
                Duration.ofMillis(600), "/metrics"));
    }

    @Test
    void monitorOptions_rejectValuesOutOfRange() {
        Duration second = Duration.ofSeconds(1);
        assertThatThrownBy(() -> new MonitorOptions(Duration.ZERO, second, 3, second, "/metrics"))
                .hasMessage("interval: PT0S (expected: >= 1 ms)");
        assertThatThrownBy(() -> new MonitorOptions(second, Duration.ZERO, 3, second, "/metrics"))
                .hasMessage("timeout: PT0S (expected: > 0)");
        assertThatThrownBy(() -> new MonitorOptions(second, second, 0, second, "/metrics"))
                .hasMessage("failuresToEject: 0 (expected: >= 1)");
        assertThatThrownBy(() -> new MonitorOptions(second, second, 3, Duration.ofMillis(999), "/metrics"))
                .hasMessage("staleAfter: PT0.999S (expected: >= interval PT1S)");
        assertThatThrownBy(() -> new MonitorOptions(second, second, 3, second, "metrics"))
                .hasMessage("metricsPath: \"metrics\" (expected: a path starting with /)");
    }

    @Test
    void pick_carriesAnEndpointExactlyWhenPicked() {
        assertThatThrownBy(() -> new Pick(Pick.Outcome.PICKED, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Pick(Pick.Outcome.SATURATED, new Endpoint("10.0.0.1", 1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
