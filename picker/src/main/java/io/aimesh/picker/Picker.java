package io.aimesh.picker;

import static java.util.Objects.requireNonNull;

import java.util.random.RandomGenerator;

/**
 * Picks the endpoint of a pool that should serve a request, from the pool's live load and the
 * request's prompt and LoRA adapter. One per pool: it remembers which endpoint served which prompt
 * prefixes.
 *
 * <p>Thread-safe, without locks: {@link #pick} may be called from any thread, concurrently, given a
 * {@code RandomGenerator} that allows it.
 *
 * <h2>Filter, then score</h2>
 * As in the Gateway API Inference Extension's endpoint picker (kubernetes-sigs/
 * gateway-api-inference-extension, {@code pkg/epp/scheduling}: filters, then weighted scorers
 * {@code queue-scorer}, {@code kv-cache-utilization-scorer}, {@code prefix-cache-scorer},
 * {@code lora-affinity-scorer}), a pick first drops the endpoints that cannot take the request and
 * then scores the rest:
 * <ol>
 *   <li>Unhealthy endpoints are dropped; if none is left the answer is {@link Pick#NONE_HEALTHY}.
 *   <li>Saturated endpoints are dropped: those whose fresh metrics show more than
 *       {@link Thresholds#maxQueue()} waiting or more than {@link Thresholds#maxKvCacheUsage()} of the
 *       KV cache in use, and those with {@link Thresholds#maxInFlight()} requests in flight when it is
 *       set (the Inference Extension's saturation detector uses the first two signals, but
 *       also counts stale metrics as saturated; here they are unknown, and the filter's in-flight
 *       counts take over). If none is left the answer is {@link Pick#SATURATED}: sending more would
 *       only queue it behind others on a GPU, and the filter's policy can queue or shed it instead.
 *   <li>Each remaining endpoint gets a cost, lower is better:
 *       <pre>{@code
 * cost = queue * min(1, waiting / maxQueue) + kvCache * kvCacheUsage + inFlight * inFlight / maxInFlight
 *      - prefixAffinity * matchedBlocks / promptBlocks - loraAffinity * adapterScore
 *       }</pre>
 *       Every term lies in {@code [0, 1]} before weighing, so {@link ScorerWeights} compare directly.
 *       The queue and the KV cache are measured against fixed scales, so an endpoint's cost does not
 *       jump because another endpoint's load moved; in-flight counts have no fixed scale and are
 *       taken relative to the busiest healthy endpoint.
 * </ol>
 *
 * <h2>Stale metrics</h2>
 * A scrape is at least one interval old when used, and may be older: {@link MonitorOptions#staleAfter()}
 * bounds it, past which an endpoint's queue, KV and LoRA figures count as unknown. An unknown queue
 * or KV term takes the mean of the endpoints that are known, so that ignorance neither attracts
 * traffic nor repels it; when none is known, the terms are zero everywhere and the pick falls back to
 * in-flight counts, the one signal the filter always has. Unknown metrics never saturate an
 * endpoint. The filter's own counts also cover what a scrape cannot yet show: the requests it sent
 * since.
 *
 * <h2>Prefix affinity</h2>
 * vLLM's automatic prefix caching skips the prefill of every leading KV block it already holds, so a
 * request sharing a long prefix (a system prompt, a document, the previous turns of a chat) is much
 * cheaper where that prefix was served recently. {@link PrefixIndex} records, per chained block hash
 * (vLLM's scheme, https://docs.vllm.ai/en/latest/design/prefix_caching/), the endpoints that
 * served it; an endpoint's bonus is the fraction of the prompt's blocks it holds, like the Inference
 * Extension's prefix-cache scorer. The pick records its endpoint for the prompt's blocks. Where every
 * endpoint holds a prefix, the bonus is the same for all and load alone decides.
 *
 * <p>Affinity must yield to load, or one popular prefix would pin all its traffic to one GPU. An
 * endpoint with more than {@link Thresholds#prefixMaxQueue()} requests waiting (by default: any)
 * gets no prefix bonus, nor one with more than {@link Thresholds#loraMaxQueue()} a LoRA bonus (see
 * {@link Thresholds#DEFAULT} for why they differ), so the request goes by load and the prefix
 * spreads to a second endpoint, which the index then credits too; this is the bounded-load idea of
 * consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, SODA 2018). While an
 * endpoint's metrics are stale its queue is unknown, and the bounds apply to this filter's in-flight
 * requests beyond those of the least busy healthy endpoint instead: with the default prefix bound,
 * a blind pick gives the prefix bonus only among the endpoints with the fewest requests in flight.
 *
 * <h2>LoRA affinity</h2>
 * Loading an adapter costs time and may evict another, so an endpoint with the requested adapter
 * among its running or waiting adapters scores 1, one with a free adapter slot 0.5, and others 0;
 * the Inference Extension's lora-affinity scorer likewise prefers an endpoint that has the adapter
 * to one with room to load it, and that to one without. The same load bound applies. The request's
 * {@code model} is taken as an adapter only once some endpoint of the pool has reported it running or
 * waiting: a base model never shows there, and scoring its requests by free adapter slots would only
 * add noise (the Inference Extension's scorer does add it). An adapter nobody has loaded yet goes by
 * load for its first request; the endpoint that loads it reports it at the next scrape. The pool
 * remembers up to {@value #MAX_SEEN_ADAPTERS} adapter names.
 *
 * <h2>Ties</h2>
 * Every endpoint within {@link #DEFAULT_TIE_EPSILON} of the lowest cost is a near-best, and one of
 * them is drawn uniformly at random. Taking the argmin deterministically would send every request of
 * a scrape interval, and every filter replica reading the same scrape, to the same endpoint: the herd
 * behaviour that stale load information causes (Mitzenmacher, "How Useful Is Old Information?", IEEE
 * TPDS 11(1), 2000). A little randomness among near-equal choices removes it at almost no cost in
 * balance, the lesson of the power of two choices (Mitzenmacher, "The Power of Two Choices in
 * Randomized Load Balancing", IEEE TPDS 12(10), 2001), where placing each of {@code n} requests on
 * the less loaded of two random endpoints out of {@code n} already brings the maximum load from
 * about {@code log n / log log n} to {@code log log n / log 2}.
 * Here the candidates are not random but the near-best, and the draw among them plays the random
 * part.
 *
 * <h2>Not scored</h2>
 * Two signals are kept but not scored. The recent time to first token per endpoint
 * ({@link EndpointLoad}) moves only when the endpoint gets traffic, so one slow spell would keep
 * traffic off an endpoint long after it recovered. The running count is covered by the queue and the
 * KV cache, which say whether the running batch has room. The routing benchmark decides whether
 * either earns a weight.
 *
 * <h2>Cost</h2>
 * A pick reads each endpoint's state and in-flight count once and makes three passes over the pool;
 * it allocates four arrays of the pool's size and one small summary, and, for a prompt of at least
 * one block, the block hashes (one round per 4 characters), one Caffeine lookup per matched block
 * with a pool lookup per endpoint credited with it (at most {@value PrefixIndex#MAX_HOLDERS}), and,
 * per block the index does not yet credit to the endpoint picked, one more lookup and a merge that
 * copies the block's short list of holders.
 */
public final class Picker {
    /** The cost difference below which two endpoints count as equally good. */
    static final double DEFAULT_TIE_EPSILON = 0.05;
    /** Characters per prefix block: about 64 tokens of English, four of vLLM's default 16-token blocks. */
    static final int DEFAULT_BLOCK_CHARS = 256;
    /** Prefix blocks matched at most: 32k characters, about 8k tokens. */
    static final int DEFAULT_MAX_BLOCKS = 128;
    /** Prefix blocks remembered at most per pool: 16M characters of distinct prefixes, a few MB. */
    static final long DEFAULT_PREFIX_CAPACITY = 65_536;

    /** Adapter names a pool remembers at most: a bound on what endpoints' reports can make it hold. */
    static final int MAX_SEEN_ADAPTERS = 4_096;
    private static final long[] NO_BLOCKS = new long[0];
    private static final int[] NO_MATCHES = new int[0];

    private final ScorerWeights weights;
    private final Thresholds thresholds;
    private final RandomGenerator random;
    private final double tieEpsilon;
    private final PrefixIndex prefixes;
    /** Adapters the pool's endpoints have reported running or waiting; see the class comment. */
    private final java.util.Set<String> seenAdapters = java.util.concurrent.ConcurrentHashMap.newKeySet();

    Picker(ScorerWeights weights, Thresholds thresholds, RandomGenerator random, double tieEpsilon,
            PrefixIndex prefixes) {
        this.weights = requireNonNull(weights, "weights");
        this.thresholds = requireNonNull(thresholds, "thresholds");
        this.random = requireNonNull(random, "random");
        if (!(tieEpsilon >= 0 && tieEpsilon < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("tieEpsilon: " + tieEpsilon + " (expected: finite, >= 0)");
        }
        this.tieEpsilon = tieEpsilon;
        this.prefixes = requireNonNull(prefixes, "prefixes");
    }

    /**
     * A picker for one pool.
     *
     * @param weights how much each scorer counts, such as {@link ScorerWeights#DEFAULT}
     * @param thresholds saturation and affinity limits, such as {@link Thresholds#DEFAULT}
     * @param random draws among near-best endpoints; {@link #pick} calls it from the calling thread, so
     *     with concurrent picks it must be thread-safe, such as
     *     {@code java.util.concurrent.ThreadLocalRandom.current()}; tests pass a seeded generator
     */
    public static Picker of(ScorerWeights weights, Thresholds thresholds, RandomGenerator random) {
        return new Picker(weights, thresholds, random, DEFAULT_TIE_EPSILON,
                new PrefixIndex(DEFAULT_BLOCK_CHARS, DEFAULT_MAX_BLOCKS, DEFAULT_PREFIX_CAPACITY));
    }

    /**
     * Picks the endpoint of {@code pool} to serve {@code request}, as the class comment describes, and
     * records it as the server of the request's prompt prefix. Does not count the request as in
     * flight: call {@link PoolMonitor#started} when it is sent.
     *
     * @return a pick of a healthy, unsaturated endpoint of {@code pool}; or {@link Pick#SATURATED}
     *     when healthy endpoints exist but all are saturated; or {@link Pick#NONE_HEALTHY}
     */
    public Pick pick(PoolState pool, RequestFeatures request) {
        requireNonNull(pool, "pool");
        requireNonNull(request, "request");
        int n = pool.size();
        if (n == 0) {
            return Pick.NONE_HEALTHY;
        }
        long now = pool.nanoTime();
        EndpointState[] states = new EndpointState[n];
        long[] inFlight = new long[n];
        PoolSummary summary = summarize(pool, now, states, inFlight);
        if (summary.healthy == 0) {
            return Pick.NONE_HEALTHY;
        }
        if (summary.open == 0) {
            return Pick.SATURATED;
        }

        long[] hashes = NO_BLOCKS;
        int[] matched = NO_MATCHES;
        if (weights.prefixAffinity() > 0) {
            hashes = prefixes.blockHashes(request.prompt(), request.loraAdapter());
            if (hashes.length > 0) {
                matched = new int[n];
                prefixes.match(hashes, pool, matched);
            }
        }

        String adapter = adapter(request, states);
        double[] costs = new double[n];
        double best = Double.POSITIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            costs[i] = cost(pool, now, states[i], inFlight[i], summary, adapter,
                    hashes.length == 0 ? 0 : (double) matched[i] / hashes.length);
            best = Math.min(best, costs[i]);
        }
        int chosen = drawNearBest(costs, best);
        PoolMember member = pool.member(chosen);
        if (hashes.length > 0) {
            prefixes.record(hashes, matched[chosen], member.endpoint);
        }
        return member.picked;
    }

    /**
     * What each endpoint scores for {@code request} as things stand, lowest first, without picking:
     * for {@code aimesh explain}. A pick draws among those near the lowest cost.
     *
     * @param cost the endpoint's cost; +infinity when it cannot be picked ({@code why} says why)
     */
    public record Scored(Endpoint endpoint, double cost, String why, long inFlight, EndpointState state) {
    }

    /** Scores every endpoint of {@code pool} for {@code request} (see {@link Scored}); records nothing. */
    public java.util.List<Scored> explain(PoolState pool, RequestFeatures request) {
        long now = pool.nanoTime();
        int n = pool.size();
        EndpointState[] states = new EndpointState[n];
        long[] inFlight = new long[n];
        PoolSummary summary = summarize(pool, now, states, inFlight);
        long[] hashes = weights.prefixAffinity() > 0 ? prefixes.blockHashes(request.prompt(), request.loraAdapter()) : NO_BLOCKS;
        int[] matched = new int[n];
        if (hashes.length > 0) {
            prefixes.match(hashes, pool, matched);
        }
        java.util.List<Scored> scored = new java.util.ArrayList<>();
        String adapter = adapter(request, states);
        for (int i = 0; i < n; i++) {
            double cost = cost(pool, now, states[i], inFlight[i], summary, adapter,
                    hashes.length == 0 ? 0 : (double) matched[i] / hashes.length);
            String why = !states[i].healthy() ? "ejected (failed scrapes)"
                    : Double.isInfinite(cost) ? "saturated (queue, KV cache or in-flight at its threshold)"
                    : hashes.length > 0 ? "prefix match " + matched[i] + "/" + hashes.length + " blocks" : "";
            scored.add(new Scored(pool.member(i).endpoint, cost, why, inFlight[i], states[i]));
        }
        scored.sort(java.util.Comparator.comparingDouble(Scored::cost));
        return scored;
    }

    /** Pool-wide figures of one pick's first pass. */
    private static final class PoolSummary {
        int healthy;
        /** Healthy and not saturated. */
        int open;
        long maxInFlight;
        long minInFlight = Long.MAX_VALUE;
        double queueSum;
        int queueKnown;
        double kvSum;
        int kvKnown;

        double meanQueue() {
            return queueKnown == 0 ? 0 : queueSum / queueKnown;
        }

        double meanKv() {
            return kvKnown == 0 ? 0 : kvSum / kvKnown;
        }
    }

    /** Reads every member once into {@code states} and {@code inFlight}, and sums up the healthy ones. */
    private PoolSummary summarize(PoolState pool, long now, EndpointState[] states, long[] inFlight) {
        PoolSummary summary = new PoolSummary();
        for (int i = 0; i < states.length; i++) {
            PoolMember member = pool.member(i);
            EndpointState state = member.state();
            states[i] = state;
            if (!state.healthy()) {
                continue;
            }
            summary.healthy++;
            long flying = member.load.inFlight();
            inFlight[i] = flying;
            summary.maxInFlight = Math.max(summary.maxInFlight, flying);
            summary.minInFlight = Math.min(summary.minInFlight, flying);
            double waiting = waiting(pool, state, now);
            double kv = kvCacheUsage(pool, state, now);
            if (!Double.isNaN(waiting)) {
                summary.queueSum += queueTerm(waiting);
                summary.queueKnown++;
            }
            if (!Double.isNaN(kv)) {
                summary.kvSum += kv;
                summary.kvKnown++;
            }
            if (!saturated(waiting, kv, flying)) {
                summary.open++;
            }
        }
        return summary;
    }

    /** The cost of an endpoint, or +infinity when it cannot be picked. */
    private double cost(PoolState pool, long now, EndpointState state, long inFlight, PoolSummary summary,
            String adapter, double prefixShare) {
        if (!state.healthy()) {
            return Double.POSITIVE_INFINITY;
        }
        double waiting = waiting(pool, state, now);
        double kv = kvCacheUsage(pool, state, now);
        if (saturated(waiting, kv, inFlight)) {
            return Double.POSITIVE_INFINITY;
        }
        double cost = weights.queue() * (Double.isNaN(waiting) ? summary.meanQueue() : queueTerm(waiting))
                + weights.kvCache() * (Double.isNaN(kv) ? summary.meanKv() : kv)
                + weights.inFlight() * (summary.maxInFlight == 0 ? 0 : (double) inFlight / summary.maxInFlight);
        // Waiting requests when known, else this filter's requests beyond the least busy endpoint's.
        double busy = Double.isNaN(waiting) ? inFlight - summary.minInFlight : waiting;
        if (busy <= thresholds.prefixMaxQueue()) {
            cost -= weights.prefixAffinity() * prefixShare;
        }
        if (busy <= thresholds.loraMaxQueue() && !adapter.isEmpty() && pool.fresh(state, now)) {
            cost -= weights.loraAffinity() * loraScore(state, adapter);
        }
        return cost;
    }

    /** The request's adapter if the pool has served it, else {@code ""}: see the class comment. */
    private String adapter(RequestFeatures request, EndpointState[] states) {
        String adapter = request.loraAdapter();
        if (adapter.isEmpty() || seenAdapters.contains(adapter)) {
            return adapter; // a known adapter needs no scan of the endpoints' reports
        }
        for (EndpointState state : states) {
            if (seenAdapters.size() < MAX_SEEN_ADAPTERS) {
                seenAdapters.addAll(state.runningLoras());
                seenAdapters.addAll(state.waitingLoras());
            }
        }
        return seenAdapters.contains(adapter) ? adapter : "";
    }

    /** Draws uniformly among the endpoints whose cost is within the tie epsilon of {@code best}. */
    private int drawNearBest(double[] costs, double best) {
        double bound = best + tieEpsilon;
        int nearBest = 0;
        for (double cost : costs) {
            if (cost <= bound) {
                nearBest++;
            }
        }
        int draw = nearBest == 1 ? 0 : random.nextInt(nearBest);
        for (int i = 0; i < costs.length; i++) {
            if (costs[i] <= bound && draw-- == 0) {
                return i;
            }
        }
        throw new AssertionError("no endpoint within " + tieEpsilon + " of the best cost " + best);
    }

    private boolean saturated(double waiting, double kv, long inFlight) {
        return waiting > thresholds.maxQueue() || kv > thresholds.maxKvCacheUsage()
                || (thresholds.maxInFlight() > 0 && inFlight >= thresholds.maxInFlight());
    }

    private double queueTerm(double waiting) {
        return Math.min(1, waiting / thresholds.maxQueue());
    }

    /** 1 for an endpoint running or awaiting {@code adapter}, 0.5 for one with a free adapter slot, else 0. */
    static double loraScore(EndpointState state, String adapter) {
        if (state.runningLoras().contains(adapter) || state.waitingLoras().contains(adapter)) {
            return 1;
        }
        int loaded = state.runningLoras().size();
        for (String waiting : state.waitingLoras()) {
            if (!state.runningLoras().contains(waiting)) {
                loaded++;
            }
        }
        return loaded < state.maxLoras() ? 0.5 : 0;
    }

    /** The endpoint's waiting queue if fresh and known, else NaN. */
    private static double waiting(PoolState pool, EndpointState state, long now) {
        return pool.fresh(state, now) ? state.waiting() : Double.NaN;
    }

    /** The endpoint's KV-cache use if fresh and known, else NaN. */
    private static double kvCacheUsage(PoolState pool, EndpointState state, long now) {
        return pool.fresh(state, now) ? state.kvCacheUsage() : Double.NaN;
    }
}
