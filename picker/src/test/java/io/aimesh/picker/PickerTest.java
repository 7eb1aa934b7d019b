package io.aimesh.picker;

import static io.aimesh.picker.TestPool.LONG_AGO;
import static io.aimesh.picker.TestPool.NOW;
import static io.aimesh.picker.TestPool.endpoint;
import static io.aimesh.picker.TestPool.fresh;
import static io.aimesh.picker.TestPool.stale;
import static io.aimesh.picker.TestPool.unhealthy;
import static io.aimesh.picker.TestPool.withLoras;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Exact picks for constructed pools, with {@link ScorerWeights#DEFAULT} (load terms 1, prefix 2,
 * LoRA 1), queue 5, KV 0.8, both affinity bounds at 2 waiting (so that the cases can show the bound
 * at work on either side; {@link Thresholds#DEFAULT} puts the prefix bound at 0, tested on its own)
 * and a tie epsilon of 0.05. The expected costs are worked out beside each case.
 */
class PickerTest {
    private static final Endpoint A = endpoint(8001);
    private static final Endpoint B = endpoint(8002);
    private static final Endpoint C = endpoint(8003);
    private static final Endpoint D = endpoint(8004);
    /** Four full 256-character blocks and a partial one. */
    private static final String SYSTEM_PROMPT = "You are a helpful assistant. Answer in one line. ".repeat(24);
    private static final String OTHER_PROMPT = "Translate the following text to French, keep names. ".repeat(24);

    private final Picker picker = new Picker(ScorerWeights.DEFAULT, new Thresholds(5, 0.8, 2, 2), new SplittableRandom(42),
            Picker.DEFAULT_TIE_EPSILON, new PrefixIndex(256, 128, 10_000));

    @Test
    void pick_prefersTheEndpointWithTheEmptyQueue() {
        // Costs: A 3/5 + 0.3 = 0.9, B 0 + 0.3 = 0.3, C 1/5 + 0.3 = 0.5.
        PoolState pool = new TestPool().add(A, fresh(3, 0.3)).add(B, fresh(0, 0.3)).add(C, fresh(1, 0.3)).build();

        assertThat(picksOf(pool, RequestFeatures.of(""), 100)).containsOnlyKeys(B);
    }

    @Test
    void pick_prefersAHalfEmptyKvCacheOverAFullOne() {
        Picker neverSaturated = new Picker(ScorerWeights.DEFAULT, new Thresholds(5, 1.0, 0, 2), new SplittableRandom(1),
                Picker.DEFAULT_TIE_EPSILON, new PrefixIndex(256, 128, 100));
        PoolState pool = new TestPool().add(A, fresh(0, 1.0)).add(B, fresh(0, 0.5)).build();

        assertThat(neverSaturated.pick(pool, RequestFeatures.of(""))).isEqualTo(Pick.of(B));
        assertThat(picker.pick(new TestPool().add(A, fresh(0, 0.75)).add(B, fresh(0, 0.5)).build(),
                RequestFeatures.of(""))).isEqualTo(Pick.of(B));
    }

    @Test
    void pick_sendsASharedPrefixBackToTheEndpointThatServedIt() {
        servePrefixOn(B, SYSTEM_PROMPT);
        // Without affinity: A 0.2, B 2/5 + 0.5 = 0.9, C 1/5 + 0.3 = 0.5. B holds all 4 blocks: 0.9 - 2 = -1.1.
        PoolState pool = new TestPool().add(A, fresh(0, 0.2)).add(B, fresh(2, 0.5)).add(C, fresh(1, 0.3)).build();

        for (int i = 0; i < 20; i++) {
            assertThat(picker.pick(pool, RequestFeatures.of(SYSTEM_PROMPT + " Question " + i))).isEqualTo(Pick.of(B));
        }
        assertThat(picker.pick(pool, RequestFeatures.of(OTHER_PROMPT))).as("a prompt B never served").isEqualTo(Pick.of(A));
    }

    @Test
    void pick_dropsPrefixAffinityOnceThePreferredEndpointPassesTheThreshold() {
        servePrefixOn(B, SYSTEM_PROMPT);
        RequestFeatures request = RequestFeatures.of(SYSTEM_PROMPT + " Question");

        PoolState atThreshold = new TestPool().add(A, fresh(0, 0.2)).add(B, fresh(2, 0.5)).build();
        assertThat(picker.pick(atThreshold, request)).isEqualTo(Pick.of(B));
        // B has 3 waiting, more than 2: no bonus, so A 0.2 beats B 3/5 + 0.5 = 1.1.
        PoolState overThreshold = new TestPool().add(A, fresh(0, 0.2)).add(B, fresh(3, 0.5)).build();
        assertThat(picker.pick(overThreshold, request)).isEqualTo(Pick.of(A));
    }

    @Test
    void defaultThresholds_holdPrefixAffinityOnlyWhereNothingWaits_andLoraAffinityUpToTwo() {
        Picker defaults = Picker.of(ScorerWeights.DEFAULT, Thresholds.DEFAULT, new SplittableRandom(42));
        PoolState onlyB = new TestPool().add(A, unhealthy()).add(B, fresh(0, 0.3)).build();
        assertThat(defaults.pick(onlyB, RequestFeatures.of(SYSTEM_PROMPT))).isEqualTo(Pick.of(B));

        // B holds the prefix but 1 waits: no bonus, so A 0.2 beats B 1/5 + 0.3 = 0.5.
        PoolState oneWaiting = new TestPool().add(A, fresh(0, 0.2)).add(B, fresh(1, 0.3)).build();
        assertThat(defaults.pick(oneWaiting, RequestFeatures.of(SYSTEM_PROMPT + " Question"))).isEqualTo(Pick.of(A));
        // B runs the adapter with 2 waiting: 2/5 + 0.3 - 1 = -0.3 beats A with a free slot: 0.3 - 0.5 = -0.2.
        RequestFeatures sql = new RequestFeatures("", "sql-lora");
        PoolState twoWaiting = new TestPool().add(A, withLoras(Set.of("x"), Set.of(), 2))
                .add(B, new EndpointState(2, 0, 0.3, Set.of("sql-lora"), Set.of(), 2, NOW, 0, true)).build();
        assertThat(defaults.pick(twoWaiting, sql)).isEqualTo(Pick.of(B));

        // Blind (stale metrics): the prefix bonus only among the fewest in flight. A picked above holds the
        // system prompt too now, so another prompt that only B served.
        assertThat(defaults.pick(onlyB, RequestFeatures.of(OTHER_PROMPT))).isEqualTo(Pick.of(B));
        // Tied at 1 each: B's bonus counts, 1/1 - 2 = -1 against A's 1/1.
        PoolState tied = new TestPool().add(A, stale(0, 0.3), 1).add(B, stale(0, 0.3), 1).build();
        assertThat(defaults.pick(tied, RequestFeatures.of(OTHER_PROMPT + " Question"))).isEqualTo(Pick.of(B));
        // B one more in flight: no bonus; in-flight terms A 1/2, B 2/2.
        PoolState bOneMore = new TestPool().add(A, stale(0, 0.3), 1).add(B, stale(0, 0.3), 2).build();
        assertThat(defaults.pick(bOneMore, RequestFeatures.of(OTHER_PROMPT + " Question"))).isEqualTo(Pick.of(A));
    }

    @Test
    void pick_creditsAPrefixToTheEndpointThatTookItsOverflow_andKeepsTheFirst() {
        servePrefixOn(B, SYSTEM_PROMPT);
        PoolState bOverloaded = new TestPool().add(A, fresh(0, 0.2)).add(B, fresh(3, 0.5)).build();
        assertThat(picker.pick(bOverloaded, RequestFeatures.of(SYSTEM_PROMPT))).isEqualTo(Pick.of(A));

        // A now holds the blocks too: 1/5 + 0.3 - 2 = -1.5, against C 0.3 without them.
        PoolState bGone = new TestPool().add(A, fresh(1, 0.3)).add(B, unhealthy()).add(C, fresh(0, 0.3)).build();
        assertThat(picker.pick(bGone, RequestFeatures.of(SYSTEM_PROMPT + " Next"))).isEqualTo(Pick.of(A));
        // B kept its credit: 0.2 - 2 = -1.8 beats A's -1.5, where it once lost it to A.
        PoolState bIdle = new TestPool().add(A, fresh(1, 0.3)).add(B, fresh(0, 0.2)).add(C, fresh(0, 0.3)).build();
        assertThat(picker.pick(bIdle, RequestFeatures.of(SYSTEM_PROMPT + " Next"))).isEqualTo(Pick.of(B));
    }

    @Test
    void pick_goesByLoadWhereEveryEndpointHoldsThePrefix() {
        for (Endpoint endpoint : List.of(A, B, C)) {
            servePrefixOn(endpoint, SYSTEM_PROMPT);
        }
        // Equal bonuses: A 2/5 + 0.5, B 0.2, C 1/5 + 0.3 less 2 each; B was not the last to serve it.
        PoolState pool = new TestPool().add(A, fresh(2, 0.5)).add(B, fresh(0, 0.2)).add(C, fresh(1, 0.3)).build();

        assertThat(picker.pick(pool, RequestFeatures.of(SYSTEM_PROMPT + " Question"))).isEqualTo(Pick.of(B));
    }

    @Test
    void pick_boundsPrefixAffinityByInFlightCountsWhenMetricsAreStale() {
        servePrefixOn(B, SYSTEM_PROMPT);
        RequestFeatures request = RequestFeatures.of(SYSTEM_PROMPT);

        // No fresh metrics: in-flight terms A 0, B 2/2 = 1, C 1/2. B is 2 beyond A, within the bound: 1 - 2 = -1.
        PoolState within = new TestPool().add(A, stale(0, 0.3), 0).add(B, stale(0, 0.3), 2).add(C, stale(0, 0.3), 1).build();
        assertThat(picker.pick(within, request)).isEqualTo(Pick.of(B));
        // B is 3 beyond A: no bonus, A 0 wins.
        PoolState beyond = new TestPool().add(A, stale(0, 0.3), 0).add(B, stale(0, 0.3), 3).add(C, stale(0, 0.3), 1).build();
        assertThat(picker.pick(beyond, request)).isEqualTo(Pick.of(A));
    }

    @Test
    void pick_keepsPrefixesOfDifferentAdaptersApart() {
        PoolState onlyB = new TestPool().add(A, unhealthy()).add(B, fresh(0, 0.3)).build();
        assertThat(picker.pick(onlyB, new RequestFeatures(SYSTEM_PROMPT, "adapter-a"))).isEqualTo(Pick.of(B));
        PoolState pool = new TestPool().add(A, fresh(0, 0.2)).add(B, fresh(0, 0.5)).build();

        assertThat(picker.pick(pool, new RequestFeatures(SYSTEM_PROMPT, "adapter-b"))).isEqualTo(Pick.of(A));
        assertThat(picker.pick(pool, new RequestFeatures(SYSTEM_PROMPT, "adapter-a"))).isEqualTo(Pick.of(B));
    }

    @Test
    void pick_ignoresPrefixHistoryOfEndpointsThatLeftThePool() {
        servePrefixOn(D, SYSTEM_PROMPT);
        PoolState withoutD = new TestPool().add(A, fresh(0, 0.2)).add(B, fresh(0, 0.5)).build();

        assertThat(picker.pick(withoutD, RequestFeatures.of(SYSTEM_PROMPT))).isEqualTo(Pick.of(A));
    }

    @Test
    void pick_prefersAnEndpointRunningTheAdapterThenOneWithAFreeSlot() {
        RequestFeatures sql = new RequestFeatures("", "sql-lora");
        // A has no free slot (0), B one free slot (0.5), C runs the adapter (1); all at 0.3 KV.
        PoolState withC = new TestPool().add(A, withLoras(Set.of("x", "y"), Set.of(), 2))
                .add(B, withLoras(Set.of("x"), Set.of(), 2)).add(C, withLoras(Set.of("sql-lora"), Set.of(), 2)).build();
        PoolState withoutC = new TestPool().add(A, withLoras(Set.of("x", "y"), Set.of(), 2))
                .add(B, withLoras(Set.of("x"), Set.of(), 2)).build();

        assertThat(picker.pick(withC, sql)).isEqualTo(Pick.of(C));
        // The pool has served sql-lora (C reported it), so where nobody runs it a free slot counts.
        assertThat(picker.pick(withoutC, sql)).isEqualTo(Pick.of(B));
    }

    @Test
    void pick_scoresNoAdapterSlotsForAModelNoEndpointHasReportedAsAnAdapter() {
        // A: no free slot, KV 0.2. B: a free slot, KV 0.3. By load A wins (0.2 < 0.3); had the base
        // model been taken for an adapter, B's free slot would win (0.3 - 0.5).
        PoolState pool = new TestPool().add(A, new EndpointState(0, 0, 0.2, Set.of("x", "y"), Set.of(), 2, NOW, 0, true))
                .add(B, withLoras(Set.of("x"), Set.of(), 2)).build();

        for (int i = 0; i < 20; i++) {
            assertThat(picker.pick(pool, new RequestFeatures("", "llama-3-8b"))).isEqualTo(Pick.of(A));
        }
    }

    @Test
    void pick_dropsLoraAffinityOfAnEndpointOverTheAffinityQueue() {
        RequestFeatures sql = new RequestFeatures("", "sql-lora");
        // C runs the adapter but has 3 waiting: 3/5 + 0.3 = 0.9 against B 0.3 - 0.5 = -0.2.
        PoolState pool = new TestPool().add(B, withLoras(Set.of("x"), Set.of(), 2))
                .add(C, new EndpointState(3, 0, 0.3, Set.of("sql-lora"), Set.of(), 2, NOW, 0, true)).build();

        assertThat(picker.pick(pool, sql)).isEqualTo(Pick.of(B));
    }

    @Test
    void loraScore_ranksRunningOrWaitingOverAFreeSlotOverNone() {
        assertThat(Picker.loraScore(withLoras(Set.of("sql"), Set.of(), 1), "sql")).isEqualTo(1);
        assertThat(Picker.loraScore(withLoras(Set.of("x"), Set.of("sql"), 1), "sql")).isEqualTo(1);
        assertThat(Picker.loraScore(withLoras(Set.of("x"), Set.of(), 2), "sql")).isEqualTo(0.5);
        assertThat(Picker.loraScore(withLoras(Set.of("x"), Set.of("y"), 2), "sql")).isEqualTo(0);
        assertThat(Picker.loraScore(withLoras(Set.of(), Set.of(), 0), "sql")).as("no LoRA metrics").isEqualTo(0);
    }

    @Test
    void pick_fallsBackToInFlightCountsWhenMetricsAreStale() {
        // Fresh, these metrics would give A 0 + 0.1 + 5/5 = 1.1, B 4/5 + 0.7 + 1/5 = 1.7, C 1/5 + 0.3 + 3/5 = 1.1.
        TestPool freshPool = new TestPool().add(A, fresh(0, 0.1), 5).add(B, fresh(4, 0.7), 1).add(C, fresh(1, 0.3), 3);
        assertThat(picksOf(freshPool.build(), RequestFeatures.of(""), 50)).doesNotContainKey(B);

        // Stale, only in flight counts: A 1, B 0.2, C 0.6.
        PoolState stalePool = new TestPool().add(A, stale(0, 0.1), 5).add(B, stale(4, 0.7), 1).add(C, stale(1, 0.3), 3).build();
        assertThat(picksOf(stalePool, RequestFeatures.of(""), 50)).containsOnlyKeys(B);
    }

    @Test
    void pick_scoresAnEndpointWithoutMetricsAsThePoolAverage() {
        // C was never scraped: it takes the mean queue (5/5 + 0) / 2 = 0.5 and KV (0.7 + 0.1) / 2 = 0.4.
        PoolState dIdle = new TestPool().add(B, fresh(5, 0.7)).add(C, EndpointState.UNKNOWN).add(D, fresh(0, 0.1)).build();
        assertThat(picker.pick(dIdle, RequestFeatures.of(""))).isEqualTo(Pick.of(D));

        // D busy: B 1.7, C 0.9, D 0.1 + 4/4 = 1.1.
        PoolState dBusy = new TestPool().add(B, fresh(5, 0.7)).add(C, EndpointState.UNKNOWN).add(D, fresh(0, 0.1), 4).build();
        assertThat(picker.pick(dBusy, RequestFeatures.of(""))).isEqualTo(Pick.of(C));
    }

    @Test
    void pick_spreadsNearTiesEvenlyAndNeverPicksAClearlyWorseEndpoint() {
        // Costs 0.30, 0.32, 0.34 are within 0.05 of the best; 0.50 is not.
        PoolState pool = new TestPool().add(A, fresh(0, 0.30)).add(B, fresh(0, 0.32)).add(C, fresh(0, 0.34))
                .add(D, fresh(0, 0.50)).build();
        int draws = 1_000;

        Map<Endpoint, Integer> picks = picksOf(pool, RequestFeatures.of(""), draws);

        assertThat(picks).doesNotContainKey(D);
        for (Endpoint endpoint : List.of(A, B, C)) {
            assertBinomial(picks.getOrDefault(endpoint, 0), draws, 1.0 / 3);
        }
    }

    @Test
    void pick_spreadsExactTiesEvenly() {
        PoolState pool = new TestPool().add(A, fresh(1, 0.4)).add(B, fresh(1, 0.4)).build();
        int draws = 1_000;

        Map<Endpoint, Integer> picks = picksOf(pool, RequestFeatures.of(""), draws);

        assertBinomial(picks.getOrDefault(A, 0), draws, 0.5);
        assertBinomial(picks.getOrDefault(B, 0), draws, 0.5);
    }

    @Test
    void pick_returnsSaturatedWhenEveryHealthyEndpointIsOverAThreshold() {
        PoolState pool = new TestPool().add(A, fresh(6, 0.2)).add(B, fresh(0, 0.85)).add(C, unhealthy()).build();

        assertThat(picker.pick(pool, RequestFeatures.of(""))).isEqualTo(Pick.SATURATED);
    }

    @Test
    void pick_skipsSaturatedEndpointsWhileOneHasRoom() {
        // D is at both thresholds, not over: the only one left, however poor its cost.
        PoolState pool = new TestPool().add(A, fresh(6, 0.0)).add(B, fresh(0, 0.81)).add(D, fresh(5, 0.8), 10).build();

        assertThat(picksOf(pool, RequestFeatures.of(""), 20)).containsOnlyKeys(D);
    }

    @Test
    void pick_neverSaturatesAnEndpointOnStaleMetrics() {
        PoolState pool = new TestPool().add(A, stale(50, 1.0)).add(B, unhealthy()).build();

        assertThat(picker.pick(pool, RequestFeatures.of(""))).isEqualTo(Pick.of(A));
    }

    @Test
    void pick_returnsNoneHealthyWhenNothingIsHealthy() {
        PoolState pool = new TestPool().add(A, unhealthy()).add(B, unhealthy()).build();

        assertThat(picker.pick(pool, RequestFeatures.of(""))).isEqualTo(Pick.NONE_HEALTHY);
        assertThat(picker.pick(new TestPool().build(), RequestFeatures.of(""))).isEqualTo(Pick.NONE_HEALTHY);
    }

    @Test
    void pick_neverPicksAnUnhealthyEndpointEvenWithItsPrefix() {
        servePrefixOn(A, SYSTEM_PROMPT);
        PoolState pool = new TestPool().add(A, unhealthy()).add(B, fresh(4, 0.7), 9).build();

        assertThat(picksOf(pool, RequestFeatures.of(SYSTEM_PROMPT), 50)).containsOnlyKeys(B);
    }

    @Test
    void pick_alwaysAnswersWithAHealthyUnsaturatedMemberOfThePool() {
        SplittableRandom random = new SplittableRandom(7);
        List<String> prompts = List.of("", SYSTEM_PROMPT, OTHER_PROMPT, SYSTEM_PROMPT + OTHER_PROMPT);
        for (int round = 0; round < 2_000; round++) {
            TestPool builder = new TestPool();
            int size = random.nextInt(9);
            boolean anyHealthy = false;
            boolean anyOpen = false;
            Map<Endpoint, Boolean> open = new HashMap<>();
            for (int i = 0; i < size; i++) {
                EndpointState state = randomState(random);
                boolean fresh = state.scrapedAtNanos() == NOW;
                boolean saturated = fresh && (state.waiting() > 5 || state.kvCacheUsage() > 0.8);
                anyHealthy |= state.healthy();
                anyOpen |= state.healthy() && !saturated;
                open.put(endpoint(9000 + i), state.healthy() && !saturated);
                builder.add(endpoint(9000 + i), state, random.nextInt(6));
            }
            RequestFeatures request = new RequestFeatures(prompts.get(random.nextInt(prompts.size())),
                    random.nextBoolean() ? "" : "a" + random.nextInt(3));

            Pick pick = picker.pick(builder.build(), request);

            if (!anyHealthy) {
                assertThat(pick).isEqualTo(Pick.NONE_HEALTHY);
            } else if (!anyOpen) {
                assertThat(pick).isEqualTo(Pick.SATURATED);
            } else {
                assertThat(pick.picked()).isTrue();
                assertThat(open.get(pick.endpoint())).as("%s in %s", pick.endpoint(), open).isTrue();
            }
        }
    }

    @Test
    void of_rejectsMissingArguments() {
        assertThatThrownBy(() -> Picker.of(null, Thresholds.DEFAULT, new SplittableRandom(1)))
                .isInstanceOf(NullPointerException.class).hasMessage("weights");
        assertThatThrownBy(() -> picker.pick(new TestPool().build(), null))
                .isInstanceOf(NullPointerException.class).hasMessage("request");
    }

    /** Credits {@code endpoint} with {@code prompt}'s blocks, by a pick where it is the only healthy one. */
    private void servePrefixOn(Endpoint endpoint, String prompt) {
        PoolState only = new TestPool().add(endpoint, fresh(0, 0.3)).add(endpoint(8999), unhealthy()).build();
        assertThat(picker.pick(only, RequestFeatures.of(prompt))).isEqualTo(Pick.of(endpoint));
    }

    private Map<Endpoint, Integer> picksOf(PoolState pool, RequestFeatures request, int draws) {
        Map<Endpoint, Integer> picks = new HashMap<>();
        for (int i = 0; i < draws; i++) {
            Pick pick = picker.pick(pool, request);
            assertThat(pick.picked()).isTrue();
            picks.merge(pick.endpoint(), 1, Integer::sum);
        }
        return picks;
    }

    /** Asserts {@code count} of {@code draws} is within 5 standard deviations of a binomial's mean. */
    private static void assertBinomial(int count, int draws, double p) {
        double mean = draws * p;
        double sd = Math.sqrt(draws * p * (1 - p));
        assertThat((double) count).as("%d of %d draws at p = %.3f (sd %.1f)", count, draws, p, sd)
                .isBetween(mean - 5 * sd, mean + 5 * sd);
    }

    private static EndpointState randomState(SplittableRandom random) {
        boolean healthy = random.nextInt(5) > 0;
        long scrapedAt = random.nextInt(10) < 7 ? NOW : LONG_AGO;
        double waiting = random.nextInt(8) == 0 ? Double.NaN : random.nextInt(9);
        double kv = random.nextInt(8) == 0 ? Double.NaN : random.nextDouble();
        Set<String> running = random.nextBoolean() ? Set.of("a0") : Set.of();
        return new EndpointState(waiting, random.nextInt(20), kv, running, Set.of(), random.nextInt(3), scrapedAt,
                healthy ? 0 : 3, healthy);
    }
}
