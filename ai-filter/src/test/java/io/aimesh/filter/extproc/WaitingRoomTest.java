package io.aimesh.filter.extproc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.picker.Endpoint;
import io.aimesh.picker.Pick;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** First come first served, bounded, timed out on a fixed clock, and cancellable. */
class WaitingRoomTest {
    private static final Pick PICKED = Pick.of(new Endpoint("127.0.0.1", 8000));
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final AtomicLong now = new AtomicLong(1_000 * SECOND);
    private final AtomicReference<Pick> pool = new AtomicReference<>(Pick.SATURATED);
    private final WaitingRoom room = new WaitingRoom(now::get);
    private final List<String> resumed = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        room.close();
    }

    @Test
    void waiters_resumeInArrivalOrder_whenThePoolHasRoom() {
        enqueue("a", 3, 5 * SECOND);
        enqueue("b", 3, 5 * SECOND);
        room.wake("p");
        assertThat(resumed).isEmpty();
        assertThat(room.waiting("p")).isEqualTo(2);

        pool.set(PICKED);
        room.wake("p"); // one per wake; the timer's next tick releases the other

        await().atMost(1, TimeUnit.SECONDS).until(() -> resumed.size() == 2);
        assertThat(resumed).containsExactly("a PICKED", "b PICKED");
        assertThat(room.waiting("p")).isZero();
    }

    @Test
    void aFullQueue_refusesTheNextRequest() {
        assertThat(enqueue("a", 2, 5 * SECOND)).isNotNull();
        assertThat(enqueue("b", 2, 5 * SECOND)).isNotNull();
        assertThat(enqueue("c", 2, 5 * SECOND)).isNull();
        assertThat(room.waiting("p")).isEqualTo(2);
    }

    @Test
    void aWaiterPastItsTimeout_isResumedSaturated_andCancelledOnesAreDropped() {
        WaitingRoom.Waiter gone = enqueue("gone", 3, 5 * SECOND);
        enqueue("late", 3, 2 * SECOND);
        enqueue("patient", 3, 10 * SECOND);
        gone.cancel();

        now.addAndGet(3 * SECOND);
        room.wake("p");

        await().atMost(1, TimeUnit.SECONDS).until(() -> resumed.size() == 1);
        assertThat(resumed).containsExactly("late SATURATED");
        assertThat(room.waiting("p")).isEqualTo(1);
        // A cancelled waiter's place is free for a new one.
        assertThat(enqueue("next", 2, 5 * SECOND)).isNotNull();
    }

    @Test
    void aResumeThatThrows_doesNotStopTheOthers() {
        room.enqueue("p", pool::get, 3, 5 * SECOND, pick -> {
            throw new IllegalStateException("call already cancelled");
        });
        enqueue("b", 3, 5 * SECOND);
        pool.set(PICKED);

        await().atMost(1, TimeUnit.SECONDS).until(() -> resumed.size() == 1);
        assertThat(resumed).containsExactly("b PICKED");
    }

    private WaitingRoom.Waiter enqueue(String name, int capacity, long timeoutNanos) {
        return room.enqueue("p", pool::get, capacity, timeoutNanos, pick -> resumed.add(name + " " + pick.outcome()));
    }
}
