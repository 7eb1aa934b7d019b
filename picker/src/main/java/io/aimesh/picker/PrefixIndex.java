package io.aimesh.picker;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * Remembers which endpoints served each prompt-prefix block, so that a request sharing a long
 * prefix can go where that prefix is likely still in the KV cache.
 *
 * <h2>Blocks</h2>
 * A prompt is cut into blocks of {@code blockChars} characters (UTF-16 units); a last partial block
 * is ignored, as vLLM caches only full blocks. Block {@code k}'s hash covers its own characters and,
 * through its parent, every block before it: {@code h(k) = H(h(k - 1), block k)}, with
 * {@code h(-1)} the hash of the LoRA adapter. This is vLLM's automatic-prefix-caching block hash
 * (https://docs.vllm.ai/en/latest/design/prefix_caching/: parent hash, block tokens, and extra keys
 * such as the LoRA ID) on characters instead of tokens, because the filter does not run the model's
 * tokenizer; the Inference Extension's prefix-cache scorer makes the same approximation. Equal
 * hashes at block {@code k} mean, up to a 64-bit collision, equal prompts up to the end of block
 * {@code k}, and the adapter in the chain keeps one adapter's prefixes from crediting another.
 *
 * <h2>Index</h2>
 * A bounded Caffeine cache from block hash to the endpoints that served a prompt containing the
 * block, the most recently credited first, at most {@value #MAX_HOLDERS} (W-TinyLFU eviction keeps
 * the blocks most requests share, which are the early ones). An endpoint that served block {@code k} also holds
 * blocks {@code 0..k}, so its matched length is one more than the last block it is recorded for; a
 * walk stops at the first block no one is recorded for.
 *
 * <p>Every endpoint that served a block keeps the credit for it, as the Inference Extension's
 * prefix-cache scorer keeps a set of servers per block. An earlier version kept only the newest
 * server: once a popular prefix spilled to a second endpoint, the first lost its credit although
 * its cache still held the text, and when every server held a few shared system prompts the
 * affinity bonus went to whichever had served each last, pulling load onto it for nothing (the
 * routing benchmark's {@code system-prompts} mix: p99 1.3-1.7x least request's). Crediting every
 * holder makes the bonus equal where the text is everywhere, and load decides.
 *
 * <p>Thread-safe.
 */
final class PrefixIndex {
    private static final long[] NO_BLOCKS = new long[0];
    private static final long SEED = 0x6a09e667f3bcc908L;
    private static final long P1 = 0x9e3779b97f4a7c15L;
    private static final long P2 = 0xc2b2ae3d27d4eb4fL;

    private final int blockChars;
    private final int maxBlocks;
    /**
     * Endpoints a block is credited to at most; past it the earliest credited goes, whether or not it
     * served the block since (a pick records only blocks not yet credited to its endpoint, which keeps
     * a warm prefix's picks free of writes). Pools of up to this many endpoints never lose a credit.
     */
    static final int MAX_HOLDERS = 8;

    private final Cache<Long, Endpoint[]> heldBy;

    /**
     * @param blockChars characters per block, {@code >= 1}
     * @param maxBlocks the most leading blocks of a prompt to hash and match, {@code >= 1}; a longer
     *     prompt is matched on its first {@code maxBlocks} blocks
     * @param capacity the most blocks remembered, {@code >= 1}
     */
    PrefixIndex(int blockChars, int maxBlocks, long capacity) {
        if (blockChars < 1) {
            throw new IllegalArgumentException("blockChars: " + blockChars + " (expected: >= 1)");
        }
        if (maxBlocks < 1) {
            throw new IllegalArgumentException("maxBlocks: " + maxBlocks + " (expected: >= 1)");
        }
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
        }
        this.blockChars = blockChars;
        this.maxBlocks = maxBlocks;
        this.heldBy = Caffeine.newBuilder().maximumSize(capacity).build();
    }

    /** The chained hashes of the full blocks of {@code prompt} for {@code adapter}; empty when it has none. */
    long[] blockHashes(String prompt, String adapter) {
        int blocks = Math.min(prompt.length() / blockChars, maxBlocks);
        if (blocks == 0) {
            return NO_BLOCKS;
        }
        long[] hashes = new long[blocks];
        long parent = hash(SEED, adapter, 0, adapter.length());
        for (int k = 0; k < blocks; k++) {
            parent = hash(parent, prompt, k * blockChars, (k + 1) * blockChars);
            hashes[k] = parent;
        }
        return hashes;
    }

    /**
     * Finds how many leading blocks each endpoint of {@code pool} holds, by the index.
     *
     * @param matched filled with, at each endpoint's index in the pool, the number of leading blocks
     *     it holds; length {@code pool.size()}, zeros on entry
     * @return how many leading blocks some endpoint was recorded for, {@code 0} to {@code hashes.length}
     */
    int match(long[] hashes, PoolState pool, int[] matched) {
        for (int k = 0; k < hashes.length; k++) {
            Endpoint[] holders = heldBy.getIfPresent(hashes[k]);
            if (holders == null) {
                return k;
            }
            for (Endpoint endpoint : holders) {
                int index = pool.indexOf(endpoint);
                if (index >= 0) {
                    matched[index] = k + 1;
                }
            }
        }
        return hashes.length;
    }

    /**
     * Records that {@code endpoint} holds every block of {@code hashes}, given the index already credits
     * it with the first {@code held}.
     */
    void record(long[] hashes, int held, Endpoint endpoint) {
        Endpoint[] alone = {endpoint};
        for (int k = held; k < hashes.length; k++) {
            Endpoint[] holders = heldBy.getIfPresent(hashes[k]);
            if (holders == null || indexOf(holders, endpoint) < 0) {
                heldBy.asMap().merge(hashes[k], alone, (old, added) -> withHolder(old, endpoint));
            }
        }
    }

    /** The endpoints credited with a block, the most recently credited first; for tests. */
    java.util.List<Endpoint> holders(long hash) {
        Endpoint[] holders = heldBy.getIfPresent(hash);
        return holders == null ? java.util.List.of() : java.util.List.of(holders);
    }

    /** {@code holders} with {@code endpoint} first, unchanged if it is there, the oldest dropped past the maximum. */
    private static Endpoint[] withHolder(Endpoint[] holders, Endpoint endpoint) {
        if (indexOf(holders, endpoint) >= 0) {
            return holders;
        }
        Endpoint[] added = new Endpoint[Math.min(holders.length + 1, MAX_HOLDERS)];
        added[0] = endpoint;
        System.arraycopy(holders, 0, added, 1, added.length - 1);
        return added;
    }

    private static int indexOf(Endpoint[] holders, Endpoint endpoint) {
        for (int i = 0; i < holders.length; i++) {
            if (holders[i].equals(endpoint)) {
                return i;
            }
        }
        return -1;
    }

    /** Hashes {@code s[from, to)} into {@code parent}: 4 UTF-16 units per round, then a 64-bit finalizer. */
    static long hash(long parent, String s, int from, int to) {
        long h = parent ^ ((long) (to - from) * P2);
        int i = from;
        for (; i + 4 <= to; i += 4) {
            long word = s.charAt(i) | (long) s.charAt(i + 1) << 16 | (long) s.charAt(i + 2) << 32
                    | (long) s.charAt(i + 3) << 48;
            h = Long.rotateLeft(h ^ word * P1, 31) * P2;
        }
        for (; i < to; i++) {
            h = Long.rotateLeft(h ^ s.charAt(i) * P1, 31) * P2;
        }
        return mix(h);
    }

    /** MurmurHash3's 64-bit finalizer: every input bit affects every output bit. */
    private static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9a53fe34e2bL;
        h ^= h >>> 33;
        return h;
    }
}
