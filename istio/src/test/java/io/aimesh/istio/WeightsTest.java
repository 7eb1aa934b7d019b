package io.aimesh.istio;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WeightsTest {
    @Test
    void percents_keepWeightsThatAlreadyTotalAHundred() {
        assertThat(Weights.percents(new int[] {90, 10})).containsExactly(90, 10);
        assertThat(Weights.percents(new int[] {100})).containsExactly(100);
    }

    @Test
    void percents_giveTheLeftoverPointsToTheLargestRemainders() {
        assertThat(Weights.percents(new int[] {1, 1, 1})).containsExactly(34, 33, 33);
        assertThat(Weights.percents(new int[] {1, 2})).containsExactly(33, 67);
        assertThat(Weights.percents(new int[] {3, 0, 1})).containsExactly(75, 0, 25);
        assertThat(Weights.percents(new int[] {1, 1, 1, 1, 1, 1, 1})).containsExactly(15, 15, 14, 14, 14, 14, 14);
    }
}
