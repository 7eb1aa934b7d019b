package io.aimesh.modelsim;

import java.util.Arrays;

/**
 * The keys of a prompt's full KV-cache blocks, as vLLM's automatic prefix caching keys them: block
 * {@code i}'s key hashes block {@code i - 1}'s key with the tokens of block {@code i}, so two prompts
 * share block {@code i} only if they agree on every token up to its end. The first key also hashes
 * the model (or adapter) name: vLLM puts the LoRA adapter into the block hash, so a base model and its
 * adapters never share blocks. A partial last block has no key (vLLM caches full blocks only).
 *
 * <p>The simulator has no tokenizer: a token is {@value #CHARS_PER_TOKEN} characters of prompt text
 * (the parser's own rule) or one token id, so a block is {@code blockTokens} of those. A chat prompt
 * is the text of its messages in order, each role before its content, so a conversation resent with
 * one more turn has the keys of the shorter one as its prefix. Keys are 64-bit; a collision would make
 * two prompts share a block, which for a simulator costs nothing but a little accuracy.
 *
 * <p>Immutable once {@link Builder#build() built}.
 */
final class PromptBlocks {
    static final int CHARS_PER_TOKEN = 4;
    static final PromptBlocks NONE = new PromptBlocks(new long[0]);

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;
    /** Between messages: not a character a prompt's text can hold (a lone surrogate high half). */
    private static final char SEPARATOR = '\ud800';

    private final long[] keys;

    private PromptBlocks(long[] keys) {
        this.keys = keys;
    }

    static Builder builder(String model, int blockTokens) {
        return new Builder(model, blockTokens);
    }

    /** The number of full blocks. */
    int count() {
        return keys.length;
    }

    /** Block {@code i}'s key. */
    long key(int i) {
        return keys[i];
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof PromptBlocks blocks && Arrays.equals(keys, blocks.keys);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(keys);
    }

    @Override
    public String toString() {
        return "PromptBlocks[" + keys.length + " blocks]";
    }

    /** Feeds prompt text and token ids in order; {@link #build()} when done. Not thread-safe. */
    static final class Builder {
        private final int blockUnits;
        private long parent;
        private long block = FNV_OFFSET;
        private int units;
        private long[] keys = new long[8];
        private int count;

        private Builder(String model, int blockTokens) {
            if (blockTokens < 1) {
                throw new IllegalArgumentException("blockTokens: " + blockTokens + " (expected: >= 1)");
            }
            this.blockUnits = blockTokens * CHARS_PER_TOKEN;
            long root = FNV_OFFSET;
            for (int i = 0; i < model.length(); i++) {
                root = (root ^ model.charAt(i)) * FNV_PRIME;
            }
            this.parent = mix(root);
        }

        Builder text(CharSequence text) {
            for (int i = 0; i < text.length(); i++) {
                unit(text.charAt(i));
            }
            return this;
        }

        /** Starts a chat message: its role goes into the keys, so a user turn never matches a system one. */
        Builder message(String role) {
            unit(SEPARATOR);
            return text(role == null ? "" : role).text(":");
        }

        /** One token id: one token, so {@value #CHARS_PER_TOKEN} units. */
        Builder tokenId(long id) {
            unit(id);
            unit(id >>> 16);
            unit(id >>> 32);
            unit(id >>> 48);
            return this;
        }

        PromptBlocks build() {
            return count == 0 ? NONE : new PromptBlocks(Arrays.copyOf(keys, count));
        }

        private void unit(long value) {
            block = (block ^ value) * FNV_PRIME;
            if (++units == blockUnits) {
                parent = mix(parent * 31 + block);
                if (count == keys.length) {
                    keys = Arrays.copyOf(keys, count * 2);
                }
                keys[count++] = parent;
                block = FNV_OFFSET;
                units = 0;
            }
        }

        /** MurmurHash3's 64-bit finaliser: every input bit reaches every output bit. */
        private static long mix(long h) {
            h ^= h >>> 33;
            h *= 0xff51afd7ed558ccdL;
            h ^= h >>> 33;
            h *= 0xc4ceb9fe1a85ec53L;
            return h ^ (h >>> 33);
        }
    }
}
