package io.aimesh.filter.config;

import java.nio.charset.StandardCharsets;

/**
 * Places a stickiness key on a version by weighted rendezvous hashing: every version scores the key
 * with {@code -ln(u) / weight}, {@code u} a uniform hash of the key and the version's name in
 * {@code (0, 1)}, and the lowest score wins. The winner is exponentially distributed with rates equal
 * to the weights, so each version gets {@code weight / sum} of the keys (Schindelhauer and Schomaker,
 * "Weighted distributed hash tables", SPAA 2005; Resch, "Weighted rendezvous hashing").
 *
 * <p>Why not buckets of the key's hash laid out by cumulative weight: with two versions (a canary
 * and its baseline, which is what a rollout moves) both move exactly the keys that must, but with
 * more, weight moving between two versions shifts the buckets of every version between them, and
 * reordering or adding a version in the policy moves keys that had no reason to move. Here a key's
 * score for a version depends only on that version's name and weight, so when weights change a key
 * on a version that did not lose weight moves only to one that gained, and no key moves to a version
 * that lost. With two versions that is the fewest moves there are: after a canary step from 10 to
 * 20 %, the ~10 % of keys that change all go from the baseline to the canary. With three, moving
 * 20 points from one version to another moved 25 % of keys in {@code StickyRoutingTest}, against
 * 20 % at least and 40 % for cumulative buckets. (No stateless scheme is the fewest for every change
 * of three or more weights.)
 *
 * <p>The hash is stable across processes and replicas (FNV-1a over UTF-8, finished with
 * SplitMix64's mixer), so every filter replica places a key the same way. Stateless and thread-safe.
 */
final class StickyDraw {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;
    private static final double TWO_TO_MINUS_53 = 0x1.0p-53;

    private StickyDraw() {
    }

    /** A 64-bit hash of {@code key}, the same in every JVM. */
    static long hash(String key) {
        long h = FNV_OFFSET;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= FNV_PRIME;
        }
        return mix(h);
    }

    /** The key's score for the version called {@code version} of weight {@code weight > 0}: lower wins. */
    static double score(long keyHash, String version, int weight) {
        long h = mix(keyHash ^ hash(version));
        double u = ((h >>> 11) + 0.5) * TWO_TO_MINUS_53; // in (0, 1): ln never sees 0
        return -Math.log(u) / weight;
    }

    /** SplitMix64's finaliser (Steele, Lea and Flood, OOPSLA 2014): every input bit affects every output bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
