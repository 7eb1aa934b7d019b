package io.aimesh.filter.extproc;

import io.aimesh.filter.config.RuntimeConfig;
import io.aimesh.picker.Pick;
import io.aimesh.picker.PoolPicker;
import io.aimesh.picker.RequestFeatures;
import java.lang.System.Logger.Level;
import java.util.function.Supplier;

/**
 * Picks the endpoint of a picker pool for one request, and when every endpoint is saturated in a
 * pool that queues, holds the request in the pool's {@link WaitingRoom} until one has room or its
 * wait ends. The waiting room decides who goes next (priority, fair share); this stage keeps the
 * request's side of that handshake: its ticket, whether the room counts it as running, its waiter.
 *
 * <p>Threading: called under its {@link RequestProcessor}'s lock; a waiting request is resumed on
 * the room's thread, which takes that lock first.
 */
final class PickStage {
    private static final System.Logger LOG = System.getLogger(PickStage.class.getName());

    private final FilterContext context;
    private final RequestState state;
    private final RequestProcessor processor;
    /** Set while the request waits for an endpoint of a saturated pool. */
    private WaitingRoom.Waiter waiter;
    /** When the request started to wait for an endpoint, or 0. */
    private long queuedNanos;
    /** Who the request is in its pool's waiting room, when the pool queues. */
    private WaitingRoom.Ticket ticket;
    /** Whether the waiting room counts the request as running in its pool (against its tenant's slots). */
    private boolean running;

    PickStage(FilterContext context, RequestState state, RequestProcessor processor) {
        this.context = context;
        this.state = state;
        this.processor = processor;
    }

    /**
     * Picks in {@code pool} and forwards or sheds the request through its processor, now or, for a
     * request that waits, when the waiting room resumes it.
     */
    void start(String pool, PoolPicker picker) {
        // The model the client named is its LoRA adapter when the pool serves it as one; the picker
        // tells (it takes a name as an adapter once an endpoint reports it).
        RequestFeatures features = new RequestFeatures(String.join("\n", state.parsed.promptTexts()),
                state.parsed.model() == null ? "" : state.parsed.model());
        RuntimeConfig.PoolInfo info = state.config.pools().get(pool); // null if a new config just added it
        boolean queues = info != null && info.queueSize() > 0;
        Supplier<Pick> pickAndHold = () -> pickAndHold(pool, picker, features);
        Pick pick;
        if (queues) {
            int share = state.tenant == null ? 1 : state.tenant.share();
            ticket = new WaitingRoom.Ticket(state.tenant == null ? "" : state.tenant.name(), state.priority, share,
                    (double) Math.max(1, state.exchange.estimatedTokens()) / share);
            // Someone waits already, or the tenant is at its slot cap: queue, so the room's order
            // (priority, fair share) decides who goes next.
            pick = context.waitingRoom().tryStart(pool, ticket, info.slots(), pickAndHold);
            if (pick == null) {
                pick = Pick.SATURATED;
            }
            running = pick.outcome() == Pick.Outcome.PICKED; // the room counts it against its tenant's slots
        } else {
            pick = pickAndHold.get();
        }
        if (pick.outcome() == Pick.Outcome.SATURATED && queues) {
            queuedNanos = System.nanoTime();
            waiter = context.waitingRoom().enqueue(pool, ticket, pickAndHold, info.queueSize(),
                    state.config.queueWaitNanos(info.queueTimeout()), end -> resume(pool, picker, end));
            if (waiter == null) {
                processor.shed(pool, ShedReason.QUEUE_FULL);
                return;
            }
            context.metrics().queued(pool);
            context.waitingRoom().wake(pool); // answers this request at once if it is the one to go and there is room
            return;
        }
        routeTo(pool, picker, pick, ShedReason.SATURATED);
    }

    /** Nanoseconds the request waited for an endpoint, or 0 when it did not wait. */
    long waitedNanos() {
        return queuedNanos == 0 ? 0 : System.nanoTime() - queuedNanos;
    }

    /**
     * The request ends while it may be waiting: cancels the wait.
     *
     * @return whether it was waiting (it then reached no model)
     */
    boolean cancelWait() {
        if (waiter == null) {
            return false;
        }
        waiter.cancel();
        waiter = null;
        return true;
    }

    /**
     * Forwards the request to the endpoint picked in {@code pool}, or sheds it when the pool is
     * saturated, for {@code refusal}.
     */
    private void routeTo(String pool, PoolPicker picker, Pick pick, ShedReason refusal) {
        context.metrics().pick(pool, pick);
        switch (pick.outcome()) {
            case PICKED -> processor.forward(pool, pick.endpoint()); // its endpoint is held since the pick
            case SATURATED -> processor.shed(pool, refusal);
            // Every endpoint failed its scrapes: Envoy balances. A shared pool's request gets no pool
            // header, so Envoy's weighted split and its own connection failures decide rather than a
            // refusal here; a dedicated pool's stays in its pool.
            case NONE_HEALTHY -> processor.forward(state.dedicated ? pool : null, null);
        }
    }

    /**
     * Picks an endpoint of {@code pool} and, when there is one, counts the request in flight there
     * at once, so that no other pick sees that slot free in between (the waiting room picks under
     * its lock). Called on the request's thread, or on the waking thread for a waiting request (the
     * request is then idle: it only waits).
     */
    private Pick pickAndHold(String pool, PoolPicker picker, RequestFeatures features) {
        Pick pick = picker.pick(features);
        if (pick.outcome() == Pick.Outcome.PICKED) {
            state.exchange.routedTo(picker, pick.endpoint(), () -> leavePool(pool));
        }
        return pick;
    }

    /** The waiting room found an endpoint for this request, or its wait is over. */
    private void resume(String pool, PoolPicker picker, WaitingRoom.WaitEnd end) {
        synchronized (processor) {
            waiter = null;
            running = end.pick().outcome() == Pick.Outcome.PICKED; // the room counted it as running
            if (processor.finished()) {
                // The client left as the room picked for it: let go of the endpoint and the slot.
                state.exchange.release();
                leavePool(pool);
                return;
            }
            try {
                routeTo(pool, picker, end.pick(), end.refusal());
            } catch (RuntimeException e) {
                // Most likely the client left as the answer went out; nothing else to tell it.
                LOG.log(Level.DEBUG, "request " + state.requestId + " could not be resumed", e);
                processor.abandon();
                if (!state.exchange.routed()) {
                    leavePool(pool);
                }
            }
        }
    }

    /**
     * The request left its endpoint of {@code pool} (or never reached it): it no longer counts
     * against its tenant's slots, and a waiting request may take its place.
     */
    void leavePool(String pool) {
        if (running) {
            running = false;
            context.waitingRoom().ended(pool, ticket);
        }
        context.waitingRoom().wake(pool);
    }
}
