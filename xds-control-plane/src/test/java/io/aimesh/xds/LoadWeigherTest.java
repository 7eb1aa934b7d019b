package io.aimesh.xds;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The weight of a load, and when a change of weights is worth a push. */
class LoadWeigherTest {
    @Test
    void weight_isInverseToLoad_between1And100() {
        assertThat(LoadWeigher.weight(0)).isEqualTo(100);
        assertThat(LoadWeigher.weight(1)).isEqualTo(50);
        assertThat(LoadWeigher.weight(9)).isEqualTo(10);
        assertThat(LoadWeigher.weight(1_000)).isEqualTo(1);
        assertThat(LoadWeigher.weight(-3)).isEqualTo(100);
    }

    @Test
    void moved_onlyPastTheHysteresis_orWhenEndpointsChange() {
        Map<String, Map<String, Integer>> published = Map.of("p", Map.of("a:1", 40, "b:1", 100));

        assertThat(LoadWeigher.moved(published, Map.of("p", Map.of("a:1", 50, "b:1", 100)))).isFalse(); // +25%: not more
        assertThat(LoadWeigher.moved(published, Map.of("p", Map.of("a:1", 51, "b:1", 100)))).isTrue();
        assertThat(LoadWeigher.moved(published, Map.of("p", Map.of("a:1", 30, "b:1", 76)))).isFalse(); // -25%, -24%
        assertThat(LoadWeigher.moved(published, Map.of("p", Map.of("a:1", 29, "b:1", 100)))).isTrue();
        assertThat(LoadWeigher.moved(published, Map.of("p", Map.of("a:1", 40)))).isTrue();
        assertThat(LoadWeigher.moved(published, Map.of("p", Map.of("a:1", 40, "b:1", 100), "q", Map.of()))).isTrue();
        assertThat(LoadWeigher.moved(Map.of(), Map.of())).isFalse();
        // Near the bottom a step of 1 is a large ratio but scrape noise.
        assertThat(LoadWeigher.moved(Map.of("p", Map.of("a:1", 2)), Map.of("p", Map.of("a:1", 3)))).isFalse();
        assertThat(LoadWeigher.moved(Map.of("p", Map.of("a:1", 2)), Map.of("p", Map.of("a:1", 4)))).isTrue();
    }
}
