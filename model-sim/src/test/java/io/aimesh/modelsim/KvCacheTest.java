package io.aimesh.modelsim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Hand-computed cases: blocks of 16 tokens, so 64 characters of text per block key. */
class KvCacheTest {

    private static PromptBlocks text(String model, String text) {
        return PromptBlocks.builder(model, 16).text(text).build();
    }

    private static String chars(char c, int n) {
        return String.valueOf(c).repeat(n);
    }

    @Test
    void aPromptSeenBefore_sharesItsFullBlocks_andPrefillsOnlyTheRest() {
        KvCache cache = new KvCache(64, 16, true); // 4 blocks
        PromptBlocks a = text("m", chars('a', 160)); // 40 tokens: 2 full blocks, 8 tokens over

        KvCache.Allocation first = cache.allocate(a, 40, 8);
        assertThat(first.hitTokens()).isZero();
        assertThat(first.blocks()).isEqualTo(3); // ceil(48 / 16)
        assertThat(cache.usedBlocks()).isEqualTo(3);
        cache.release(first);
        assertThat(cache.usedBlocks()).isZero();

        KvCache.Allocation second = cache.allocate(a, 40, 8);
        assertThat(second.hitTokens()).isEqualTo(32);
        assertThat(cache.usedBlocks()).isEqualTo(3);
    }

    @Test
    void aPromptCachedWhole_stillComputesItsLastBlock() {
        KvCache cache = new KvCache(64, 16, true);
        PromptBlocks exact = text("m", chars('e', 128)); // 32 tokens: exactly 2 blocks

        cache.release(cache.allocate(exact, 32, 1));

        // The model must run on the last prompt token, so the block holding it is computed again.
        assertThat(cache.allocate(exact, 32, 1).hitTokens()).isEqualTo(16);
    }

    @Test
    void aLongerConversation_hitsTheShorterOnesBlocks_andADifferentStartHitsNothing() {
        KvCache cache = new KvCache(256, 16, true);
        String turn = chars('t', 160);
        cache.release(cache.allocate(text("m", turn), 40, 4));

        assertThat(cache.cachedPrefixTokens(text("m", turn + chars('u', 64)), 56)).isEqualTo(32);
        assertThat(cache.cachedPrefixTokens(text("m", "x" + turn), 41)).isZero();
        // An adapter (another model name) never shares the base model's blocks.
        assertThat(cache.cachedPrefixTokens(text("adapter", turn + chars('u', 64)), 56)).isZero();
    }

    @Test
    void twoRunningSequences_holdASharedBlockOnce() {
        KvCache cache = new KvCache(160, 16, true); // 10 blocks
        PromptBlocks shared = text("m", chars('s', 256)); // 64 tokens, 4 blocks

        KvCache.Allocation one = cache.allocate(shared, 64, 16); // 5 blocks
        KvCache.Allocation two = cache.allocate(shared, 64, 16); // hits 3 (the 4th is recomputed): 2 more

        assertThat(two.hitTokens()).isEqualTo(48);
        assertThat(cache.usedBlocks()).isEqualTo(7);
        cache.release(one);
        assertThat(cache.usedBlocks()).isEqualTo(5); // the shared 3 are still held by two
        cache.release(two);
        assertThat(cache.usedBlocks()).isZero();
    }

    @Test
    void whenFull_aSequenceWaits_andEvictionTakesTheLeastRecentTailFirst() {
        KvCache cache = new KvCache(64, 16, true); // 4 blocks
        PromptBlocks a = text("m", chars('a', 160)); // 2 keys + a partial block
        cache.release(cache.allocate(a, 40, 8)); // cached: a0, a1; 2 empty blocks

        KvCache.Allocation other = cache.allocate(text("m", chars('o', 100)), 25, 23); // 3 blocks: 2 empty, then evicts a1
        assertThat(other).isNotNull();
        assertThat(cache.cachedPrefixTokens(a, 40)).isEqualTo(16); // a0 survived: a prompt's head outlives its tail

        assertThat(cache.allocate(text("m", chars('w', 64)), 16, 17)).isNull(); // 3 blocks, 1 evictable: waits
        cache.release(other);
        assertThat(cache.allocate(text("m", chars('w', 64)), 16, 17)).isNotNull();
    }

    @Test
    void dropCached_forgetsWhatNobodyHolds_andKeepsWhatIsHeld() {
        KvCache cache = new KvCache(160, 16, true);
        PromptBlocks a = text("m", chars('a', 160));
        PromptBlocks b = text("m", chars('b', 160));
        cache.release(cache.allocate(a, 40, 8));
        KvCache.Allocation held = cache.allocate(b, 40, 8);

        cache.dropCached();

        assertThat(cache.cachedPrefixTokens(a, 40)).isZero();
        assertThat(cache.cachedPrefixTokens(b, 40)).isEqualTo(32);
        assertThat(cache.usedBlocks()).isEqualTo(3);
        cache.release(held);
        assertThat(cache.usedBlocks()).isZero();
        assertThat(cache.allocate(text("m", chars('c', 600)), 150, 10)).isNotNull(); // all 10 blocks free again
    }

    @Test
    void withCachingOff_nothingIsShared() {
        KvCache cache = new KvCache(64, 16, false);
        PromptBlocks a = text("m", chars('a', 160));

        cache.release(cache.allocate(a, 40, 8));

        assertThat(cache.allocate(a, 40, 8).hitTokens()).isZero();
        assertThat(cache.usedBlocks()).isEqualTo(3);
    }

    @Test
    void blocksFor_roundsUp_andCapacityIsWholeBlocks() {
        KvCache cache = new KvCache(100, 16, true);

        assertThat(cache.capacityBlocks()).isEqualTo(7); // a 100-token sequence fits
        assertThat(cache.blocksFor(16, 1)).isEqualTo(2);
        assertThat(cache.blocksFor(15, 1)).isEqualTo(1);
    }
}
