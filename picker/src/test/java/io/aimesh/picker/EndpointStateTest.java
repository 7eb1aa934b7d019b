package io.aimesh.picker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EndpointStateTest {
    private static final VllmMetrics METRICS = new VllmMetrics(2, 5, 0.5, Set.of("sql"), Set.of(), 2, List.of());

    @Test
    void failed_ejectsAtTheConfiguredNumberOfConsecutiveFailures() {
        EndpointState state = EndpointState.UNKNOWN.scraped(METRICS, 100);

        EndpointState once = state.failed(3);
        EndpointState twice = once.failed(3);
        EndpointState thrice = twice.failed(3);

        assertThat(once.healthy()).isTrue();
        assertThat(twice.healthy()).isTrue();
        assertThat(thrice.healthy()).isFalse();
        assertThat(thrice.consecutiveFailures()).isEqualTo(3);
        assertThat(thrice.failed(3).healthy()).isFalse();
    }

    @Test
    void failed_keepsTheLastMetricsAndTheirTime() {
        EndpointState failed = EndpointState.UNKNOWN.scraped(METRICS, 100).failed(3);

        assertThat(failed.waiting()).isEqualTo(2);
        assertThat(failed.kvCacheUsage()).isEqualTo(0.5);
        assertThat(failed.runningLoras()).containsExactly("sql");
        assertThat(failed.scrapedAtNanos()).isEqualTo(100);
    }

    @Test
    void scraped_readmitsAfterOneSuccess() {
        EndpointState ejected = EndpointState.UNKNOWN.failed(1);
        assertThat(ejected.healthy()).isFalse();

        EndpointState back = ejected.scraped(METRICS, 200);

        assertThat(back).isEqualTo(new EndpointState(2, 5, 0.5, Set.of("sql"), Set.of(), 2, 200, 0, true));
    }

    @Test
    void unknown_isPresumedHealthyWithNothingKnown() {
        assertThat(EndpointState.UNKNOWN.healthy()).isTrue();
        assertThat(EndpointState.UNKNOWN.waiting()).isNaN();
        assertThat(EndpointState.UNKNOWN.kvCacheUsage()).isNaN();
    }

    @Test
    void constructor_rejectsValuesOutOfRange() {
        assertThatThrownBy(() -> new EndpointState(-1, 0, 0, Set.of(), Set.of(), 0, 0, 0, true))
                .hasMessage("waiting: -1.0 (expected: NaN or a finite value >= 0)");
        assertThatThrownBy(() -> new EndpointState(0, Double.POSITIVE_INFINITY, 0, Set.of(), Set.of(), 0, 0, 0, true))
                .hasMessage("running: Infinity (expected: NaN or a finite value >= 0)");
        assertThatThrownBy(() -> new EndpointState(0, 0, 1.5, Set.of(), Set.of(), 0, 0, 0, true))
                .hasMessage("kvCacheUsage: 1.5 (expected: NaN or 0 to 1)");
        assertThatThrownBy(() -> new EndpointState(0, 0, 0, Set.of(), Set.of(), -1, 0, 0, true))
                .hasMessage("maxLoras: -1 (expected: >= 0)");
        assertThatThrownBy(() -> new EndpointState(0, 0, 0, Set.of(), Set.of(), 0, 0, -1, true))
                .hasMessage("consecutiveFailures: -1 (expected: >= 0)");
        assertThatThrownBy(() -> new EndpointState(0, 0, 0, null, Set.of(), 0, 0, 0, true))
                .isInstanceOf(NullPointerException.class).hasMessage("runningLoras");
    }
}
