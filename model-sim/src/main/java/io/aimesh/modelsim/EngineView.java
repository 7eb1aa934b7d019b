package io.aimesh.modelsim;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The engine's state as of its last scheduling decision, published for readers on other threads,
 * and the time to first token a new request would see: what an oracle router knows that no real
 * router can (exact queues, remaining output lengths, cache contents, resident adapters, with no
 * scrape in between).
 *
 * <p>{@link #predictTtftNanos} replays the engine's own scheduler from this state: the step under
 * way ends at its deadline and gives every running sequence a token; then each step admits in order
 * what fits (slots, KV blocks, adapter slots), costs {@link GpuProfile#stepNanos} for its batch and
 * prefill plus adapter loads, and retires what finished, until the new request's first token. The
 * replay is exact for the engine's rules; what it cannot know is the future: requests that arrive
 * later and, for the requests already waiting, cache hits that change before they are admitted (each
 * counts the hits it would have had when it arrived, none if it arrived before the first prediction).
 *
 * @param deadlineNanos when the step under way ends; in the past when the engine is idle
 * @param running the running sequences
 * @param waiting the waiting sequences, in queue order
 * @param usedBlocks KV blocks held by running sequences
 * @param residentAdapters adapters in GPU slots
 */
record EngineView(long deadlineNanos, List<Seq> running, List<Seq> waiting, int usedBlocks, Set<String> residentAdapters) {

    static final EngineView IDLE = new EngineView(0, List.of(), List.of(), 0, Set.of());
    /** Steps replayed at most: past that the request would wait longer than any benchmark measures. */
    static final int MAX_STEPS = 100_000;

    /**
     * One sequence as the replay needs it.
     *
     * @param remaining output tokens still to generate (for a waiting one, all of them)
     * @param prefill prompt tokens it prefills when admitted (0 once running)
     * @param blocks KV blocks it holds or will hold
     * @param adapter its LoRA adapter, or {@code null}
     */
    record Seq(int remaining, int prefill, int blocks, String adapter) {
    }

    /** What the replay needs of the engine's configuration. */
    record Limits(GpuProfile profile, double speed, int maxSeqs, int capacityBlocks, int maxLoras, long loadNanos) {
    }

    /**
     * The nanoseconds from {@code nowNanos} to the first token of a request arriving now, or
     * {@link Long#MAX_VALUE} if it would not start within {@link #MAX_STEPS} steps.
     */
    long predictTtftNanos(Limits limits, long nowNanos, Seq request) {
        List<Seq> batch = new ArrayList<>(running);
        List<Seq> queue = new ArrayList<>(waiting);
        queue.add(request);
        Set<String> resident = new HashSet<>(residentAdapters);
        int used = usedBlocks;
        long time = nowNanos;
        if (deadlineNanos > nowNanos && !batch.isEmpty()) {
            time = deadlineNanos; // the step under way gives every running sequence its token
            used -= retire(batch);
        }
        for (int step = 0; step < MAX_STEPS; step++) {
            Set<String> batchAdapters = new HashSet<>();
            for (Seq seq : batch) {
                if (seq.adapter() != null) {
                    batchAdapters.add(seq.adapter());
                }
            }
            int prefill = 0;
            long loads = 0;
            boolean admitted = false;
            for (int i = 0; i < queue.size() && batch.size() < limits.maxSeqs(); ) {
                Seq next = queue.get(i);
                String adapter = next.adapter();
                if (adapter != null && !batchAdapters.contains(adapter) && batchAdapters.size() >= limits.maxLoras()) {
                    i++; // skipped, as the engine skips it
                    continue;
                }
                if (used + next.blocks() > limits.capacityBlocks()) {
                    break;
                }
                queue.remove(i);
                used += next.blocks();
                prefill += next.prefill();
                if (adapter != null && batchAdapters.add(adapter) && !resident.contains(adapter)) {
                    loads += limits.loadNanos();
                    resident.add(adapter); // slots are not modelled past this: a load is charged once
                }
                batch.add(new Seq(next.remaining(), 0, next.blocks(), adapter));
                admitted |= next == request;
            }
            if (batch.isEmpty()) {
                return Long.MAX_VALUE; // nothing runs and the head does not fit: cannot happen with valid sizes
            }
            time += limits.profile().stepNanos(batch.size(), prefill, limits.speed()) + Math.round(loads / limits.speed());
            if (admitted) {
                return time - nowNanos;
            }
            used -= retire(batch);
        }
        return Long.MAX_VALUE;
    }

    /** Gives every sequence of {@code batch} one token and removes the finished; returns the blocks they held. */
    private static int retire(List<Seq> batch) {
        int freed = 0;
        for (int i = batch.size() - 1; i >= 0; i--) {
            Seq seq = batch.get(i);
            if (seq.remaining() <= 1) {
                freed += seq.blocks();
                batch.remove(i);
            } else {
                batch.set(i, new Seq(seq.remaining() - 1, 0, seq.blocks(), seq.adapter()));
            }
        }
        return freed;
    }
}
