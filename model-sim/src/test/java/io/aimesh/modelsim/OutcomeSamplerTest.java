package io.aimesh.modelsim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class OutcomeSamplerTest {

    @Test
    void sameSeed_drawsIdenticalOutcomesAndTexts() {
        assertThat(draw(42, 50)).isEqualTo(draw(42, 50));
    }

    @Test
    void differentSeeds_drawDifferentOutcomes() {
        assertThat(draw(42, 50)).isNotEqualTo(draw(43, 50));
    }

    @Test
    void naturalLength_hasConfiguredMedianAndStaysInRange() {
        OutcomeSampler sampler = new OutcomeSampler(7, 0);
        int[] lengths = IntStream.range(0, 10_001).map(i -> sampler.next().naturalTokens()).sorted().toArray();

        assertThat(lengths[lengths.length / 2]).isBetween(115, 141);
        assertThat(lengths[0]).isGreaterThanOrEqualTo(1);
        assertThat(lengths[lengths.length - 1]).isLessThanOrEqualTo(OutcomeSampler.MAX_NATURAL_TOKENS);
    }

    @Test
    void failRate_failsThatFractionOfRequests() {
        assertThat(failures(new OutcomeSampler(3, 0.0), 1000)).isZero();
        assertThat(failures(new OutcomeSampler(3, 1.0), 1000)).isEqualTo(1000);
        assertThat(failures(new OutcomeSampler(3, 0.2), 10_000)).isBetween(1800L, 2200L);
    }

    @Test
    void pseudoText_tokensNeedNoJsonEscaping() {
        PseudoText text = new PseudoText(11);
        for (int i = 0; i < 5000; i++) {
            assertThat(text.nextToken()).matches("[a-z .,]+");
        }
    }

    /** Outcomes and the first 20 tokens of each text, as comparable strings. */
    private static List<String> draw(long seed, int requests) {
        OutcomeSampler sampler = new OutcomeSampler(seed, 0.5);
        List<String> drawn = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            OutcomeSampler.Outcome outcome = sampler.next();
            PseudoText text = new PseudoText(outcome.textSeed());
            String[] tokens = new String[20];
            Arrays.setAll(tokens, t -> text.nextToken());
            drawn.add(outcome + String.join("", tokens));
        }
        return drawn;
    }

    private static long failures(OutcomeSampler sampler, int requests) {
        return IntStream.range(0, requests).filter(i -> sampler.next().fail()).count();
    }
}
