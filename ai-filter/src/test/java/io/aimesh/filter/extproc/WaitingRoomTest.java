package io.aimesh.filter.extproc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.filter.config.RuntimeConfig.Priority;
import io.aimesh.picker.Endpoint;
import io.aimesh.picker.Pick;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Bounded, timed out on a fixed clock, cancellable; released by priority class, then by fair share
 * among tenants, then in arrival order; a full queue refuses the least important and most served.
 */
class WaitingRoomTest {
    private static final Pick PICKED = Pick.of(new Endpoint("127.0.0.1", 8000));
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final AtomicLong now = new AtomicLong(1_000 * SECOND);
    private final AtomicReference<Pick> pool = new AtomicReference<>(Pick.SATURATED);
    /** Woken by the tests alone, so every release is one the test asked for; resumed on the waking thread. */
    private final WaitingRoom room = new WaitingRoom(now::get, 0, Runnable::run);
    private final List<String> resumed = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        room.close();
    }

    @Test
    void waiters_resumeInArrivalOrder_oneAWake_andTheTimerWakesToo() {
        try (WaitingRoom ticking = new WaitingRoom(now::get)) {
            for (String name : List.of("a", "b")) {
                ticking.enqueue("p", ticket("t", Priority.STANDARD), pool::get, 3, 5 * SECOND,
                        outcome -> resumed.add(name + " " + describe(outcome)));
            }
            ticking.wake("p");
            assertThat(resumed).isEmpty();
            assertThat(ticking.waiting("p")).isEqualTo(2);

            pool.set(PICKED);
            ticking.wake("p"); // one per wake; the timer's next tick releases the other

            await().atMost(1, TimeUnit.SECONDS).until(() -> resumed.size() == 2);
            assertThat(resumed).containsExactly("a PICKED", "b PICKED");
            assertThat(ticking.waiting("p")).isZero();
        }
    }

    @Test
    void aFullQueue_refusesTheNextRequestOfTheSameTenantAndClass() {
        assertThat(enqueue("a", 2, 5 * SECOND)).isNotNull();
        assertThat(enqueue("b", 2, 5 * SECOND)).isNotNull();
        assertThat(enqueue("c", 2, 5 * SECOND)).isNull();
        assertThat(room.waiting("p")).isEqualTo(2);
    }

    @Test
    void aWaiterPastItsTimeout_isRefused_andCancelledOnesLeaveAtOnce() {
        WaitingRoom.Waiter gone = enqueue("gone", 3, 5 * SECOND);
        enqueue("late", 3, 2 * SECOND);
        enqueue("patient", 3, 10 * SECOND);
        gone.cancel();
        assertThat(room.waiting("p")).isEqualTo(2);

        now.addAndGet(3 * SECOND);
        room.wake("p");

        assertThat(resumed).containsExactly("late queue-timeout");
        assertThat(room.waiting("p")).isEqualTo(1);
        // A cancelled waiter's place is free for a new one.
        assertThat(enqueue("next", 2, 5 * SECOND)).isNotNull();
    }

    @Test
    void aResumeThatThrows_doesNotStopTheOthers() {
        room.enqueue("p", ticket("t", Priority.STANDARD), pool::get, 3, 5 * SECOND, outcome -> {
            throw new IllegalStateException("call already cancelled");
        });
        enqueue("b", 3, 5 * SECOND);
        pool.set(PICKED);
        room.wake("p");
        room.wake("p");

        assertThat(resumed).containsExactly("b PICKED");
    }

    @Test
    void higherClasses_goFirst_whateverTheirArrival() {
        enqueueAs("shed-1", "s", Priority.SHEDDABLE, 10);
        enqueueAs("std-1", "t", Priority.STANDARD, 10);
        enqueueAs("crit-1", "c", Priority.CRITICAL, 10);
        enqueueAs("std-2", "t", Priority.STANDARD, 10);

        releaseAll(4);

        assertThat(resumed).containsExactly("crit-1 PICKED", "std-1 PICKED", "std-2 PICKED", "shed-1 PICKED");
    }

    @Test
    void aFullQueue_displacesSheddableFirst_thenStandard_andCriticalOnlyForNothing() {
        enqueueAs("shed-1", "s", Priority.SHEDDABLE, 3);
        enqueueAs("shed-2", "s", Priority.SHEDDABLE, 3);
        enqueueAs("std-1", "t", Priority.STANDARD, 3);

        assertThat(enqueueAs("std-2", "t", Priority.STANDARD, 3)).isNotNull();
        assertThat(enqueueAs("crit-1", "c", Priority.CRITICAL, 3)).isNotNull();
        assertThat(enqueueAs("crit-2", "c", Priority.CRITICAL, 3)).isNotNull();
        assertThat(enqueueAs("crit-3", "c", Priority.CRITICAL, 3)).isNotNull();
        // Every place is critical now: the next critical request of the same tenant is the one refused.
        assertThat(enqueueAs("crit-4", "c", Priority.CRITICAL, 3)).isNull();
        assertThat(enqueueAs("std-3", "t", Priority.STANDARD, 3)).isNull();

        assertThat(resumed).containsExactly("shed-2 displaced", "shed-1 displaced", "std-2 displaced", "std-1 displaced");
    }

    @Test
    void aFullQueue_heldByOneTenant_makesRoomForAnotherOfTheSameClass() {
        for (int i = 0; i < 4; i++) {
            enqueueAs("noisy-" + i, "noisy", Priority.STANDARD, 4);
        }
        assertThat(enqueueAs("noisy-4", "noisy", Priority.STANDARD, 4)).isNull();
        assertThat(enqueueAs("quiet-0", "quiet", Priority.STANDARD, 4)).isNotNull();

        assertThat(resumed).containsExactly("noisy-3 displaced");
    }

    @Test
    void backloggedTenants_shareReleases_byTheirWeights() {
        // Both tenants keep 50 requests waiting; "gold" has share 3, "free" share 1, all requests cost the same.
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            room.enqueue("p", new WaitingRoom.Ticket("gold", Priority.STANDARD, 3, 100.0 / 3), pool::get, 1_000, 60 * SECOND,
                    outcome -> order.add("gold"));
            room.enqueue("p", new WaitingRoom.Ticket("free", Priority.STANDARD, 1, 100.0), pool::get, 1_000, 60 * SECOND,
                    outcome -> order.add("free"));
        }
        pool.set(PICKED);
        for (int i = 0; i < 40; i++) {
            room.wake("p");
        }

        // Deterministic, not statistical: the counters alternate 3 gold releases per free one, give or take one.
        long gold = order.stream().filter("gold"::equals).count();
        assertThat(order).hasSize(40);
        assertThat(gold).isBetween(29L, 31L);
    }

    @Test
    void aTenantThatStartsWaiting_isLiftedToTheOthersCounters_notCreditedForItsIdleTime() {
        for (int i = 0; i < 20; i++) {
            enqueueAs("a-" + i, "a", Priority.STANDARD, 100);
        }
        pool.set(PICKED);
        for (int i = 0; i < 10; i++) {
            room.wake("p");
        }
        resumed.clear();
        for (int i = 0; i < 5; i++) {
            enqueueAs("b-" + i, "b", Priority.STANDARD, 100);
        }
        for (int i = 0; i < 10; i++) {
            room.wake("p");
        }

        // b does not get its five in a row to "catch up" with a's ten: the two alternate, b first on
        // the tie (it has fewer waiting).
        List<String> tenants = resumed.stream().map(r -> r.substring(0, 1)).toList();
        assertThat(tenants).containsExactly("b", "a", "b", "a", "b", "a", "b", "a", "b", "a");
    }

    @Test
    void aTenantAlone_takesEverySlot_butLeavesHeadroomOnceAnotherIsActive() {
        WaitingRoom.Ticket noisy = ticket("noisy", Priority.STANDARD);
        WaitingRoom.Ticket quiet = ticket("quiet", Priority.STANDARD);
        for (int i = 0; i < 8; i++) {
            assertThat(start(noisy)).as("noisy's request %d, alone", i).isTrue();
        }
        // quiet's fair share is half the slots: it may start though noisy holds them all.
        assertThat(start(quiet)).isTrue();
        room.ended("p", noisy);
        // noisy (7 running) must now leave quiet one slot above its one request: a cap of 6.
        assertThat(start(noisy)).isFalse();
        room.ended("p", noisy);
        assertThat(start(noisy)).isFalse();
        room.ended("p", quiet);
        // quiet went idle: noisy has the pool again.
        assertThat(start(noisy)).isTrue();
        // Critical requests are never held back for others' headroom.
        assertThat(start(ticket("urgent", Priority.CRITICAL))).isTrue();
    }

    @Test
    void aPickOfNoEndpoint_doesNotCountAsRunning() {
        WaitingRoom.Ticket noisy = ticket("noisy", Priority.STANDARD);
        WaitingRoom.Ticket quiet = ticket("quiet", Priority.STANDARD);
        assertThat(room.tryStart("p", quiet, 2, () -> Pick.NONE_HEALTHY)).isEqualTo(Pick.NONE_HEALTHY);
        // quiet is not active: noisy may take both slots.
        assertThat(start(noisy)).isTrue();
        assertThat(start(noisy)).isTrue();
    }

    @Test
    void aCappedTenantsWaiter_isPassedOver_forAnotherTenantWithRoom() {
        WaitingRoom.Ticket noisy = ticket("noisy", Priority.STANDARD);
        for (int i = 0; i < 3; i++) {
            room.tryStart("p", noisy, 4, () -> PICKED);
        }
        room.tryStart("p", ticket("quiet", Priority.STANDARD), 4, () -> PICKED);
        enqueueAs("noisy-wait", "noisy", Priority.STANDARD, 10);
        enqueueAs("quiet-wait", "quiet", Priority.STANDARD, 10);
        pool.set(PICKED);

        room.wake("p");

        // noisy (3 running, quiet active with 1) is at its cap of 2; quiet goes though it came later.
        assertThat(resumed).containsExactly("quiet-wait PICKED");
    }

    /** Whether a request of {@code ticket} may start in pool p of 8 slots (its pick then finds an endpoint). */
    private boolean start(WaitingRoom.Ticket ticket) {
        return room.tryStart("p", ticket, 8, () -> PICKED) != null;
    }

    private void releaseAll(int expected) {
        pool.set(PICKED);
        for (int i = 0; i < expected; i++) {
            room.wake("p");
        }
        assertThat(resumed).hasSize(expected);
    }

    private WaitingRoom.Waiter enqueue(String name, int capacity, long timeoutNanos) {
        return room.enqueue("p", ticket("t", Priority.STANDARD), pool::get, capacity, timeoutNanos,
                outcome -> resumed.add(name + " " + describe(outcome)));
    }

    private WaitingRoom.Waiter enqueueAs(String name, String tenant, Priority priority, int capacity) {
        return room.enqueue("p", ticket(tenant, priority), pool::get, capacity, 60 * SECOND,
                outcome -> resumed.add(name + " " + describe(outcome)));
    }

    private static WaitingRoom.Ticket ticket(String tenant, Priority priority) {
        return new WaitingRoom.Ticket(tenant, priority, 1, 100);
    }

    private static String describe(WaitingRoom.WaitEnd outcome) {
        return outcome.refused() ? outcome.refusal().label() : outcome.pick().outcome().name();
    }
}
