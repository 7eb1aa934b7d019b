package io.aimesh.filter.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.limit.LimitRule.Cost;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Several threads admit and settle requests of one tenant while another thread moves a fake clock
 * through hundreds of windows. Every input is drawn from a fixed seed; only the interleaving varies.
 *
 * <p>Each worker settles a reservation after its next admission, so at most two of its
 * reservations are unsettled at any time and some are settled after their window ended.
 */
class TokenLimiterStressTest {
    private static final long DAY_START = 19_676L * 86_400_000L;
    private static final Duration MINUTE = Duration.ofMinutes(1);
    private static final long SEED = 0x5EED_2025L;
    private static final int WORKERS = 3;
    private static final int REQUESTS_PER_WORKER = 30_000;
    private static final int OPERATIONS_PER_TICK = 40;
    private static final int UNSETTLED_PER_WORKER = 2;

    private final AtomicLong clock = new AtomicLong(DAY_START);
    private final AtomicLong ticked = new AtomicLong();
    private final TokenLimiter limiter = new TokenLimiter(clock::get, 1_000);
    private final TenantLimits limits = new TenantLimits("acme", List.of(
            new LimitRule("tpm", List.of("*"), MINUTE, 5_000, Cost.TOTAL, 1_000),
            new LimitRule("llama", List.of("llama"), MINUTE, 4_000, new Cost(1, 3), 0)), 12);

    private record Request(String model, long input, long output, long actualInput, long actualOutput, boolean release) {
    }

    /** An admitted request: where each budget charged it, and what it finally cost. */
    private record Outcome(Request request, Reservation reservation, Budget[] budgets, long[] windows) {
        long estimate(int index) {
            return budgets[index].cost(request.input(), request.output());
        }

        long finalCost(int index) {
            return request.release() ? 0 : budgets[index].cost(request.actualInput(), request.actualOutput());
        }
    }

    private record WorkerResult(List<Outcome> admitted, Map<String, Integer> denials) {
    }

    @Test
    void admit_underConcurrentUseAndRolloverStaysWithinBoundsAndLosesNoCharge() throws Exception {
        Random random = new Random(SEED);
        List<List<Request>> work = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
            work.add(requests(random, REQUESTS_PER_WORKER));
        }
        long[] ticks = random.longs(1_000, 1, 25_000).toArray();
        Budget[] llamaBudgets = limiter.budgetsFor(limits, "llama");
        Budget[] otherBudgets = limiter.budgetsFor(limits, "mistral");

        List<WorkerResult> results = run(work, ticks);

        assertThat(limiter.budgetsFor(limits, "llama")).as("same budgets throughout").isSameAs(llamaBudgets);
        List<Outcome> admitted = new ArrayList<>();
        Map<String, Integer> denials = new HashMap<>();
        for (WorkerResult result : results) {
            admitted.addAll(result.admitted());
            result.denials().forEach((limit, count) -> denials.merge(limit, count, Integer::sum));
        }
        assertThat(denials).as("every budget refused some requests").containsOnlyKeys("requests", "tpm", "llama");
        Map<Budget, Long> overshoots = largestOvershoots(work, llamaBudgets, otherBudgets);
        long dropped = 0;
        for (Budget budget : llamaBudgets) {
            assertWithinBoundsAndConserved(budget, admitted, overshoots.get(budget));
            dropped += budget.dropped();
        }
        assertThat(dropped).as("some settlements came after their window").isPositive();
    }

    /**
     * Per window, what admitted requests left in it is at most {@code tokens + burst} plus the
     * overshoots of the requests unsettled at the window's last admission: two per worker, not the
     * single one of a sequential caller. And the budget's ledger equals the requests' final costs
     * plus the refunds it dropped.
     */
    private static void assertWithinBoundsAndConserved(Budget budget, List<Outcome> admitted, long largestOvershoot) {
        Map<Long, Long> perWindow = new HashMap<>();
        long finalCosts = 0;
        for (Outcome outcome : admitted) {
            for (int i = 0; i < outcome.budgets().length; i++) {
                if (outcome.budgets()[i] == budget) {
                    // At least this much stays in the window charged: the final cost if settled there,
                    // else the estimate (a late refund is dropped, a late extra charge lands elsewhere).
                    perWindow.merge(outcome.windows()[i], Math.min(outcome.estimate(i), outcome.finalCost(i)), Long::sum);
                    finalCosts += outcome.finalCost(i);
                }
            }
        }
        long bound = budget.ceiling + (long) WORKERS * UNSETTLED_PER_WORKER * largestOvershoot;
        assertThat(perWindow).as("%s windows with admissions", budget.limit).hasSizeGreaterThan(300);
        assertThat(perWindow.values()).as("%s per window", budget.limit).allSatisfy(used -> assertThat(used).isLessThanOrEqualTo(bound));
        assertThat(perWindow.values()).as("%s binds", budget.limit).anySatisfy(used -> assertThat(used).isGreaterThanOrEqualTo(budget.tokens / 2));
        assertThat(budget.charged()).as("%s: charged = final costs + dropped refunds", budget.limit)
                .isEqualTo(finalCosts + budget.dropped());
    }

    private List<WorkerResult> run(List<List<Request>> work, long[] ticks) throws Exception {
        AtomicLong operations = new AtomicLong();
        AtomicInteger finished = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(WORKERS + 1);
        try {
            List<Future<WorkerResult>> workers = new ArrayList<>();
            for (List<Request> requests : work) {
                workers.add(threads.submit(worker(requests, operations, finished)));
            }
            Future<?> ticking = threads.submit(() -> advanceClock(ticks, operations, finished));
            List<WorkerResult> results = new ArrayList<>();
            for (Future<WorkerResult> worker : workers) {
                results.add(worker.get(2, TimeUnit.MINUTES));
            }
            ticking.get(1, TimeUnit.MINUTES);
            return results;
        } finally {
            threads.shutdownNow();
        }
    }

    private static List<Request> requests(Random random, int count) {
        List<Request> requests = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long input = random.nextInt(1_001);
            long output = random.nextInt(301);
            long actualOutput = random.nextInt(10) < 7 ? random.nextInt((int) output + 1) : output + random.nextInt(151);
            requests.add(new Request(random.nextBoolean() ? "llama" : "mistral", input, output, input, actualOutput,
                    random.nextInt(10) == 0));
        }
        return requests;
    }

    private Callable<WorkerResult> worker(List<Request> requests, AtomicLong operations, AtomicInteger finished) {
        return () -> {
            try {
                List<Outcome> admitted = new ArrayList<>();
                Map<String, Integer> denials = new HashMap<>();
                Outcome unsettled = null;
                for (Request request : requests) {
                    // Keep pace with the clock, so that every window sees about OPERATIONS_PER_TICK * 5 requests.
                    while (operations.get() >= (ticked.get() + 2) * OPERATIONS_PER_TICK) {
                        Thread.yield();
                    }
                    Admission admission = limiter.admit(limits, request.model(), request.input(), request.output());
                    operations.incrementAndGet();
                    if (admission.admitted()) {
                        Outcome outcome = outcome(request, admission.reservation());
                        admitted.add(outcome);
                        if (unsettled != null) {
                            settle(unsettled);
                        }
                        unsettled = outcome;
                    } else {
                        denials.merge(admission.denial().limit(), 1, Integer::sum);
                    }
                }
                if (unsettled != null) {
                    settle(unsettled);
                }
                return new WorkerResult(admitted, denials);
            } finally {
                finished.incrementAndGet();
            }
        };
    }

    private Outcome outcome(Request request, Reservation reservation) {
        Budget[] budgets = limiter.budgetsFor(limits, request.model());
        long[] windows = new long[budgets.length];
        for (int i = 0; i < budgets.length; i++) {
            windows[i] = reservation.chargedWindow(i);
        }
        return new Outcome(request, reservation, budgets, windows);
    }

    private static void settle(Outcome outcome) {
        Request request = outcome.request();
        Reservation reservation = outcome.reservation();
        boolean settled = request.release() ? reservation.release() : reservation.reconcile(request.actualInput(), request.actualOutput());
        assertThat(settled).isTrue();
    }

    /** Moves the clock forward by the next tick every {@link #OPERATIONS_PER_TICK} operations, until the workers are done. */
    private void advanceClock(long[] ticks, AtomicLong operations, AtomicInteger finished) {
        while (finished.get() < WORKERS) {
            long tick = ticked.get();
            if (operations.get() >= (tick + 1) * OPERATIONS_PER_TICK) {
                clock.addAndGet(ticks[(int) (tick % ticks.length)]);
                ticked.set(tick + 1);
            } else {
                Thread.yield();
            }
        }
    }

    private static Map<Budget, Long> largestOvershoots(List<List<Request>> work, Budget[]... budgetSets) {
        Map<Budget, Long> largest = new IdentityHashMap<>();
        for (Budget[] budgets : budgetSets) {
            for (Budget budget : budgets) {
                long overshoot = 0;
                for (List<Request> requests : work) {
                    for (Request r : requests) {
                        overshoot = Math.max(overshoot, budget.cost(r.actualInput(), r.actualOutput()) - budget.cost(r.input(), r.output()));
                    }
                }
                largest.put(budget, overshoot);
            }
        }
        return largest;
    }
}
