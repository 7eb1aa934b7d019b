package io.aimesh.modelsim;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The simulated GPU's KV cache in fixed-size blocks, with vLLM's automatic prefix caching.
 *
 * <ul>
 *   <li>A sequence holds {@code ceil((prompt + output) / blockTokens)} blocks while it runs (all of
 *       them from admission: see {@link InferenceEngine} on why nothing is preempted).</li>
 *   <li>A full prompt block is registered under its {@link PromptBlocks} key. A later sequence whose
 *       prompt starts with the same keys shares those blocks (a reference count) and prefills only
 *       the tokens after them: its <em>hit</em>. The lookup stops at the first key not cached, as
 *       vLLM's longest-prefix lookup does, and leaves at least the prompt's last token to compute
 *       (a model must run on one token to produce the next).</li>
 *   <li>When a sequence ends its blocks are released. A registered block nobody uses stays cached
 *       and <em>evictable</em>: it counts as free, and is reused, least recently released first,
 *       when a sequence needs a block and none is empty. A sequence releases its blocks last first, so
 *       a prompt's tail is evicted before its head, which other prompts are likelier to share.</li>
 *   <li>Usage, as vLLM reports it, is the share of blocks held by running sequences; cached blocks
 *       nobody holds count as free.</li>
 * </ul>
 *
 * <p>With caching off no block is registered, so every prompt is prefilled whole. Confined to the
 * engine thread, but for {@link #cachedPrefixTokens} and the sizes.
 */
final class KvCache {

    /** A sequence's blocks: shared and registered ones, and a count of plain ones (partial prompt, output). */
    static final class Allocation {
        private final List<Block> registered;
        private final int plainBlocks;
        private final int hitTokens;

        private Allocation(List<Block> registered, int plainBlocks, int hitTokens) {
            this.registered = registered;
            this.plainBlocks = plainBlocks;
            this.hitTokens = hitTokens;
        }

        /** The prompt tokens found in the cache: not prefilled again. */
        int hitTokens() {
            return hitTokens;
        }

        int blocks() {
            return registered.size() + plainBlocks;
        }
    }

    private static final class Block {
        final long key;
        int holders;

        Block(long key) {
            this.key = key;
        }
    }

    private final int blockTokens;
    private final int capacityTokens;
    private final int capacity;
    private final boolean prefixCaching;
    /** Concurrent so that {@link #cachedPrefixTokens} may be read from any thread (an oracle); written by the engine only. */
    private final Map<Long, Block> byKey = new ConcurrentHashMap<>();
    /** Registered blocks no sequence holds, least recently released first. */
    private final LinkedHashSet<Block> evictable = new LinkedHashSet<>();
    private int empty;

    /**
     * @param capacityTokens the cache's size in tokens, also the longest sequence; it holds
     *     {@code ceil(capacityTokens / blockTokens)} blocks, so a sequence of that many tokens fits
     */
    KvCache(int capacityTokens, int blockTokens, boolean prefixCaching) {
        if (blockTokens < 1) {
            throw new IllegalArgumentException("blockTokens: " + blockTokens + " (expected: >= 1)");
        }
        this.blockTokens = blockTokens;
        if (capacityTokens < 1) {
            throw new IllegalArgumentException("capacityTokens: " + capacityTokens + " (expected: >= 1)");
        }
        this.capacityTokens = capacityTokens;
        this.capacity = (int) (((long) capacityTokens + blockTokens - 1) / blockTokens);
        this.prefixCaching = prefixCaching;
        this.empty = capacity;
    }

    int blockTokens() {
        return blockTokens;
    }

    int capacityBlocks() {
        return capacity;
    }

    /** The longest sequence, prompt and output, in tokens. */
    int capacityTokens() {
        return capacityTokens;
    }

    /** Blocks a sequence of these sizes holds. */
    int blocksFor(int promptTokens, int outputTokens) {
        return (int) (((long) promptTokens + outputTokens + blockTokens - 1) / blockTokens);
    }

    /** Blocks held by running sequences. */
    int usedBlocks() {
        return capacity - empty - evictable.size();
    }

    /** The prompt tokens a sequence with these blocks would find cached now; no change. Any thread. */
    int cachedPrefixTokens(PromptBlocks prompt, int promptTokens) {
        return hitBlocks(prompt, promptTokens) * blockTokens;
    }

    /** Takes the blocks of a sequence, or returns {@code null} if they are not free: it must wait. */
    Allocation allocate(PromptBlocks prompt, int promptTokens, int outputTokens) {
        int hit = hitBlocks(prompt, promptTokens);
        int needed = blocksFor(promptTokens, outputTokens) - hit;
        int hitEvictable = 0;
        for (int i = 0; i < hit; i++) {
            if (byKey.get(prompt.key(i)).holders == 0) {
                hitEvictable++;
            }
        }
        if (needed > empty + evictable.size() - hitEvictable) {
            return null;
        }
        List<Block> registered = new ArrayList<>(hit + 4);
        for (int i = 0; i < hit; i++) {
            Block block = byKey.get(prompt.key(i));
            if (block.holders++ == 0) {
                evictable.remove(block);
            }
            registered.add(block);
        }
        int plain = 0;
        int fullPromptBlocks = prefixCaching ? Math.min(prompt.count(), promptTokens / blockTokens) : 0;
        for (int i = hit; i < hit + needed; i++) {
            takeBlock();
            long key = i < fullPromptBlocks ? prompt.key(i) : 0;
            if (i < fullPromptBlocks && !byKey.containsKey(key)) {
                Block block = new Block(key);
                block.holders = 1;
                byKey.put(key, block);
                registered.add(block);
            } else {
                plain++; // not a full prompt block, or its key is cached after a block that was evicted
            }
        }
        return new Allocation(registered, plain, hit * blockTokens);
    }

    /** Forgets every cached block nobody holds (vLLM's {@code /reset_prefix_cache}); held blocks stay. */
    void dropCached() {
        for (Block block : evictable) {
            byKey.remove(block.key);
        }
        empty += evictable.size();
        evictable.clear();
    }

    /** Gives back a sequence's blocks; its registered ones stay cached until evicted. */
    void release(Allocation allocation) {
        for (int i = allocation.registered.size() - 1; i >= 0; i--) {
            Block block = allocation.registered.get(i);
            if (--block.holders == 0) {
                evictable.add(block);
            }
        }
        empty += allocation.plainBlocks;
    }

    private int hitBlocks(PromptBlocks prompt, int promptTokens) {
        if (!prefixCaching) {
            return 0;
        }
        // At least the last prompt token is computed: a full hit recomputes the last block.
        int limit = Math.min(prompt.count(), (promptTokens - 1) / blockTokens);
        int hit = 0;
        while (hit < limit && byKey.containsKey(prompt.key(hit))) {
            hit++;
        }
        return hit;
    }

    private void takeBlock() {
        if (empty > 0) {
            empty--;
            return;
        }
        Block oldest = evictable.iterator().next();
        evictable.remove(oldest);
        byKey.remove(oldest.key);
    }
}
