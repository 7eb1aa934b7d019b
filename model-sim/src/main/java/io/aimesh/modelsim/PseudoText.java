package io.aimesh.modelsim;

import java.util.SplittableRandom;

/**
 * Deterministic filler text, one token at a time: lowercase pseudo-words with a space before each,
 * and now and then a comma or a full stop, drawn from a {@link SplittableRandom} seeded per request.
 * Tokens are plain ASCII letters and punctuation, so they need no JSON escaping.
 *
 * <p>Not thread-safe: one instance per request, used by the request's handler thread.
 */
final class PseudoText {

    private static final String[] WORDS = {
        "the", "model", "token", "batch", "cache", "query", "mesh", "route", "proxy", "signal", "value",
        "layer", "vector", "prompt", "answer", "stream", "latency", "cluster", "request", "weight",
        "kernel", "shard", "queue", "budget", "policy", "gateway", "service", "replica", "tensor",
        "memory", "context", "result", "of", "and", "to", "in", "is", "that", "for", "with", "as", "on",
        "by", "a", "it", "from", "each", "more", "fast", "small", "large", "simple", "stable", "green",
        "quiet", "bright", "early", "later", "often", "always", "within", "across", "between", "under",
    };
    private static final String[] SPACED = new String[WORDS.length];

    static {
        for (int i = 0; i < WORDS.length; i++) {
            SPACED[i] = " " + WORDS[i];
        }
    }

    private final SplittableRandom random;
    private boolean first = true;

    PseudoText(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** Returns the next token's text: the first has no leading space, punctuation never does. */
    String nextToken() {
        int roll = random.nextInt(100);
        int word = random.nextInt(WORDS.length); // always two draws: token i depends only on the seed
        if (first) {
            first = false;
            return WORDS[word];
        }
        if (roll < 5) {
            return ".";
        }
        if (roll < 9) {
            return ",";
        }
        return SPACED[word];
    }
}
