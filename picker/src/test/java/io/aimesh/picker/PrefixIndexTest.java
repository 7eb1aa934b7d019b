package io.aimesh.picker;

import static io.aimesh.picker.TestPool.endpoint;
import static io.aimesh.picker.TestPool.fresh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PrefixIndexTest {
    private static final Endpoint A = endpoint(8001);
    private static final Endpoint B = endpoint(8002);

    private final PrefixIndex index = new PrefixIndex(4, 8, 1_000);

    @Test
    void blockHashes_ignoreTheLastPartialBlock() {
        assertThat(index.blockHashes("abc", "")).isEmpty();
        assertThat(index.blockHashes("abcdefghij", "")).hasSize(2);
    }

    @Test
    void blockHashes_agreeOnASharedPrefixAndDifferAfterIt() {
        long[] first = index.blockHashes("aaaabbbbccccdddd", "");
        long[] second = index.blockHashes("aaaabbbbccccxxxx", "");

        assertThat(Arrays.copyOf(first, 3)).isEqualTo(Arrays.copyOf(second, 3));
        assertThat(first[3]).isNotEqualTo(second[3]);
    }

    @Test
    void blockHashes_chainSoAnEqualBlockAfterADifferentPrefixDiffers() {
        long[] first = index.blockHashes("aaaazzzz", "");
        long[] second = index.blockHashes("bbbbzzzz", "");

        assertThat(first[1]).isNotEqualTo(second[1]);
    }

    @Test
    void blockHashes_dependOnTheAdapter() {
        assertThat(index.blockHashes("aaaabbbb", "sql-lora")).doesNotContain(index.blockHashes("aaaabbbb", ""));
    }

    @Test
    void blockHashes_stopAtMaxBlocks() {
        assertThat(index.blockHashes("x".repeat(100), "")).hasSize(8);
    }

    @Test
    void match_creditsAnEndpointWithEveryBlockUpToTheLastRecordedForIt() {
        long[] hashes = index.blockHashes("aaaabbbbccccdddd", "");
        index.record(hashes, 0, B);
        index.record(Arrays.copyOf(hashes, 2), 0, A);
        PoolState pool = new TestPool().add(A, fresh(0, 0)).add(B, fresh(0, 0)).build();
        int[] matched = new int[2];

        assertThat(index.match(hashes, pool, matched)).isEqualTo(4);
        assertThat(matched).containsExactly(2, 4);
    }

    @Test
    void match_stopsAtTheFirstBlockNoOneServed() {
        long[] served = index.blockHashes("aaaabbbb", "");
        index.record(served, 0, A);
        long[] longer = index.blockHashes("aaaabbbbccccdddd", "");
        PoolState pool = new TestPool().add(A, fresh(0, 0)).build();
        int[] matched = new int[1];

        assertThat(index.match(longer, pool, matched)).isEqualTo(2);
        assertThat(matched).containsExactly(2);
    }

    @Test
    void record_creditsEveryEndpointThatServedABlock_newestFirst() {
        long[] hashes = index.blockHashes("aaaabbbbcccc", "");
        index.record(hashes, 0, A);

        index.record(hashes, 2, B);

        assertThat(index.holders(hashes[0])).containsExactly(A);
        assertThat(index.holders(hashes[1])).containsExactly(A);
        assertThat(index.holders(hashes[2])).containsExactly(B, A);
        PoolState pool = new TestPool().add(A, fresh(0, 0)).add(B, fresh(0, 0)).build();
        int[] matched = new int[2];
        assertThat(index.match(hashes, pool, matched)).isEqualTo(3);
        assertThat(matched).as("B served block 2, so it holds 0 and 1 too").containsExactly(3, 3);
    }

    @Test
    void record_isIdempotentForAHolder() {
        long[] hashes = index.blockHashes("aaaabbbb", "");
        index.record(hashes, 0, A);
        index.record(hashes, 0, B);

        index.record(hashes, 0, A);

        assertThat(index.holders(hashes[1])).containsExactly(B, A);
    }

    @Test
    void record_dropsTheOldestHolderPastTheMaximum() {
        long[] hashes = index.blockHashes("aaaa", "");
        for (int port = 9000; port < 9000 + PrefixIndex.MAX_HOLDERS + 1; port++) {
            index.record(hashes, 0, endpoint(port));
        }

        assertThat(index.holders(hashes[0])).hasSize(PrefixIndex.MAX_HOLDERS)
                .startsWith(endpoint(9000 + PrefixIndex.MAX_HOLDERS)).doesNotContain(endpoint(9000));
    }

    @Test
    void constructor_rejectsNonPositiveSizes() {
        assertThatThrownBy(() -> new PrefixIndex(0, 1, 1)).hasMessage("blockChars: 0 (expected: >= 1)");
        assertThatThrownBy(() -> new PrefixIndex(1, 0, 1)).hasMessage("maxBlocks: 0 (expected: >= 1)");
        assertThatThrownBy(() -> new PrefixIndex(1, 1, 0)).hasMessage("capacity: 0 (expected: >= 1)");
    }
}
