package io.aimesh.filter.extproc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A coalesced call's usage, shared among its requests: never negative, always the whole. */
class EmbeddingCoalescerTest {
    @Test
    void usageShares_byLargestRemainder_sumToTheWhole_andAreNeverNegative() {
        List<EmbeddingCoalescer.Pending> six = List.of(pending("aa"), pending("aa"), pending("aa"), pending("aa"),
                pending("aa"), pending("aa"));
        assertThat(EmbeddingCoalescer.shares(six, 9)).containsExactly(2, 2, 2, 1, 1, 1);
        assertThat(EmbeddingCoalescer.shares(six, 0)).containsOnly(0);
        assertThat(EmbeddingCoalescer.shares(six, -5)).containsOnly(0);

        List<EmbeddingCoalescer.Pending> uneven = List.of(pending("a"), pending("aaaaaaaaa"));
        assertThat(EmbeddingCoalescer.shares(uneven, 10)).containsExactly(1, 9);
    }

    private static EmbeddingCoalescer.Pending pending(String text) {
        return new EmbeddingCoalescer.Pending(List.of(text), slice -> { });
    }
}
