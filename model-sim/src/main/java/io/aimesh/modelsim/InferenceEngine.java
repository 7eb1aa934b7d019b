package io.aimesh.modelsim;

import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A simulated GPU: one engine thread running a continuous-batching step loop over submitted
 * {@link Sequence}s.
 *
 * <h2>Design</h2>
 * Modeled on vLLM's scheduler (Kwon et al., "Efficient Memory Management for Large Language Model
 * Serving with PagedAttention", SOSP '23), which batches at the granularity of one decode iteration
 * (Yu et al., "Orca", OSDI '22). Each step:
 * <ol>
 *   <li>drains newly submitted sequences into a FIFO waiting queue and drops cancelled ones;
 *   <li>admits from the head of the queue while a sequence slot is free ({@code running < maxSeqs})
 *       and the KV cache ({@link KvCache}) can hold the blocks of the head's prompt <em>and all of its
 *       output tokens</em>, blocks of a cached prompt prefix shared. Admission
 *       is first-come first-served: a head that does not fit the KV cache blocks those behind it, as
 *       in vLLM's FCFS policy, so large requests are not starved by small ones. A sequence whose LoRA
 *       adapter cannot get a GPU slot ({@link LoraSlots}) is skipped instead, as vLLM skips it;
 *   <li>lasts {@link GpuProfile#stepNanos} for the running batch plus the prompt tokens prefilled
 *       for the sequences admitted in it, less those found in the prefix cache, plus the loads of
 *       adapters not in a slot; the engine parks until that deadline;
 *   <li>at the deadline gives every running sequence one token; a sequence that reached its
 *       output length, or was cancelled, frees its slot and its KV reservation.
 * </ol>
 * So time to first token is queue wait + prefill + one decode step, and a request that does not fit
 * in the KV cache waits until enough others complete.
 *
 * <p>KV policy: vLLM allocates KV blocks as a sequence grows and preempts (recomputes) a sequence
 * when blocks run out. This engine instead reserves the blocks of prompt + output at admission. That
 * admits fewer sequences early in their life than vLLM would, but never preempts, so "KV cache full,
 * the request waits" is exact and deterministic. {@link #kvCacheUsage()} reports the share of blocks
 * held; cached blocks nobody holds count as free, as in vLLM.
 *
 * <p>Timing: step deadlines are chained, each step starting at the previous deadline, so park
 * overshoot does not accumulate and throughput matches {@link GpuProfile}. If the engine thread is
 * more than {@link #CATCH_UP_NANOS} late (starved of CPU) the next step starts now instead: the
 * simulated GPU loses that time rather than emitting a burst. Event timestamps are the real
 * {@link System#nanoTime()} at which the engine observed them. When idle the thread parks until a
 * submission unparks it; it never spins.
 *
 * <p>Threading: {@link #submit}, {@link #cancel}, the gauges and {@link #close} may be called from
 * any thread; every other field is confined to the engine thread. The class is a little over 300
 * lines because the scheduler's thread-confined state and the hand-off to other threads read best
 * side by side.
 */
final class InferenceEngine implements AutoCloseable {

    private static final System.Logger LOGGER = System.getLogger(InferenceEngine.class.getName());
    static final long CATCH_UP_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final GpuProfile profile;
    private final double speed;
    private final int maxSeqs;
    private final KvCache cache;
    private final LoraSlots lora;
    private final VllmMetrics metrics;
    private final Thread thread;

    private final ConcurrentLinkedQueue<Sequence> submitted = new ConcurrentLinkedQueue<>();
    /** Sequences submitted and neither admitted nor dropped yet; live gauge. */
    private final AtomicInteger waitingCount = new AtomicInteger();
    private volatile int runningCount;
    private volatile int usedBlocks;
    private volatile String runningAdapters = "";
    private volatile String waitingAdapters = "";
    private volatile EngineView view = EngineView.IDLE;
    /** Set by the first prediction: until someone asks, the engine does not copy its state every step. */
    private volatile boolean viewWanted;
    private volatile boolean idle;
    private volatile boolean cancelPending;
    private volatile boolean resetPending;
    private volatile boolean closed;

    // Engine thread only.
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    private final List<Sequence> running = new ArrayList<>();
    private final List<Sequence> finished = new ArrayList<>();
    private final List<Sequence> cancelled = new ArrayList<>();
    private long lastDeadline;
    /** Prompt tokens prefilled in the step being prepared: not found in the prefix cache. */
    private int prefillTokens;
    private boolean busy;

    /**
     * Creates a stopped engine; call {@link #start()}.
     *
     * @param speed GPU speed multiplier, {@code > 0}
     * @param maxSeqs sequences decoded together at most, {@code >= 1}
     * @param cache the KV cache, the engine's own from now on
     * @param lora the LoRA adapter slots, the engine's own from now on
     */
    InferenceEngine(GpuProfile profile, double speed, int maxSeqs, KvCache cache, LoraSlots lora, VllmMetrics metrics,
            String threadName) {
        this.profile = profile;
        this.speed = speed;
        this.maxSeqs = maxSeqs;
        this.cache = cache;
        this.lora = lora;
        this.metrics = metrics;
        this.thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Tokens per KV block: what a prompt's block keys must be cut at. */
    int blockTokens() {
        return cache.blockTokens();
    }

    /** KV cache capacity in tokens; a sequence needs {@code prompt + output <= kvCapacity()}. */
    int kvCapacity() {
        return cache.capacityTokens();
    }

    /**
     * Queues a sequence whose waiter is the calling thread. After {@link #close()} the returned
     * sequence is already {@link Sequence.State#FAILED}.
     *
     * @throws IllegalArgumentException unless {@code promptTokens >= 1}, {@code outputTokens >= 1} and
     *     both fit in the KV cache together
     */
    Sequence submit(int promptTokens, int outputTokens, PromptBlocks prompt, String adapter) {
        if (promptTokens < 1 || outputTokens < 1 || (long) promptTokens + outputTokens > kvCapacity()) {
            throw new IllegalArgumentException("promptTokens + outputTokens: " + promptTokens + " + "
                    + outputTokens + " (expected: each >= 1, sum <= " + kvCapacity() + ")");
        }
        Sequence seq = new Sequence(promptTokens, outputTokens, prompt, adapter, System.nanoTime(), Thread.currentThread());
        if (closed) {
            seq.terminate(Sequence.State.FAILED, seq.submitNanos());
            return seq;
        }
        waitingCount.incrementAndGet();
        submitted.add(seq);
        if (closed) {
            failSubmitted(); // raced close(): the engine may already have drained for the last time
        } else if (idle) {
            LockSupport.unpark(thread);
        }
        return seq;
    }

    /**
     * Forgets the cached prompt blocks and unloads the adapters no running sequence uses, before the
     * next admission: a benchmark gives every router the same cold servers. Any thread.
     */
    void resetCaches() {
        resetPending = true;
    }

    /** Requests cancellation of {@code seq}; its slot and KV reservation are freed at the next step. */
    void cancel(Sequence seq) {
        seq.requestCancel();
        cancelPending = true;
    }

    int numRunning() {
        return runningCount;
    }

    int numWaiting() {
        return waitingCount.get();
    }

    /**
     * The time to first token a request of these sizes would see if it arrived now, from the engine's
     * exact state (see {@link EngineView}); {@link Long#MAX_VALUE} if it would not start soon. Any thread.
     * The engine publishes its state from the first call on, so that call sees it idle.
     */
    long predictTtftNanos(int promptTokens, int outputTokens, PromptBlocks prompt, String adapter) {
        int hit = cache.cachedPrefixTokens(prompt, promptTokens);
        EngineView.Seq request = new EngineView.Seq(outputTokens, promptTokens - hit, cache.blocksFor(promptTokens, outputTokens),
                adapter);
        EngineView.Limits limits = new EngineView.Limits(profile, speed, maxSeqs, cache.capacityBlocks(), lora.maxLoras(),
                lora.loadNanos());
        viewWanted = true;
        return view.predictTtftNanos(limits, System.nanoTime(), request);
    }

    /** Prompt tokens admitted so far: looked up in the prefix cache (the metric's count). */
    long prefixQueriedTokens() {
        return metrics.prefixQueriedTokens();
    }

    /** Of those, the tokens found cached. */
    long prefixHitTokens() {
        return metrics.prefixHitTokens();
    }

    /** GPU slots for LoRA adapters. */
    int maxLoras() {
        return lora.maxLoras();
    }

    /** The adapters of running sequences, sorted, comma-separated; {@code ""} for none. */
    String runningAdapters() {
        return runningAdapters;
    }

    /** The adapters of waiting sequences, sorted, comma-separated; {@code ""} for none. */
    String waitingAdapters() {
        return waitingAdapters;
    }

    /** Fraction of the KV cache's blocks held by running sequences, in {@code [0, 1]}. */
    double kvCacheUsage() {
        return (double) usedBlocks / cache.capacityBlocks();
    }

    /** Stops the engine thread and fails every sequence not yet done; idempotent. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        failSubmitted();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try {
            while (!closed) {
                drainSubmitted();
                if (running.isEmpty() && waiting.isEmpty()) {
                    awaitWork();
                    continue;
                }
                step();
            }
        } catch (RuntimeException | Error e) {
            LOGGER.log(Level.ERROR, "engine thread " + thread.getName() + " died", e);
            throw e;
        } finally {
            closed = true; // after a crash, later submissions fail at once instead of waiting forever
            failAll();
        }
    }

    private void step() {
        long now = System.nanoTime();
        long start = busy && now - lastDeadline <= CATCH_UP_NANOS ? lastDeadline : now;
        long loadNanos = admit(now);
        if (running.isEmpty()) {
            busy = false; // everything waiting was cancelled
            return;
        }
        long deadline = start + profile.stepNanos(running.size(), prefillTokens, speed) + Math.round(loadNanos / speed);
        publishView(deadline);
        if (!parkUntil(deadline)) {
            return;
        }
        lastDeadline = deadline;
        busy = true;
        decode(System.nanoTime());
    }

    /**
     * Moves fitting sequences from the queue into the batch, in order, skipping those whose adapter
     * has no slot; sets {@link #prefillTokens} and returns the adapter load time of the step.
     */
    private long admit(long now) {
        if (resetPending) {
            resetPending = false;
            cache.dropCached();
            lora.unloadIdle();
        }
        if (cancelPending) {
            cancelPending = false;
            waiting.removeIf(seq -> seq.isCancelRequested() && drop(seq, now));
        }
        prefillTokens = 0;
        int promptTokens = 0;
        long loadNanos = 0;
        for (Iterator<Sequence> queue = waiting.iterator(); running.size() < maxSeqs && queue.hasNext(); ) {
            Sequence next = queue.next();
            if (next.isCancelRequested()) {
                queue.remove();
                drop(next, now);
                continue;
            }
            if (!lora.canRun(next.adapter())) {
                continue; // its adapter waits for a slot; those behind it may run
            }
            KvCache.Allocation blocks = cache.allocate(next.prompt(), next.promptTokens(), next.outputTokens());
            if (blocks == null) {
                break; // FCFS: the queue waits until enough KV is freed
            }
            queue.remove();
            waitingCount.decrementAndGet();
            loadNanos += lora.start(next.adapter());
            next.admit(now, blocks);
            running.add(next);
            promptTokens += next.promptTokens();
            prefillTokens += next.promptTokens() - blocks.hitTokens();
            metrics.onPrefixCache(next.promptTokens(), blocks.hitTokens());
        }
        if (promptTokens > 0) {
            metrics.onPrefill(promptTokens);
        }
        publish();
        return loadNanos;
    }

    /** Gives every running sequence one token and retires the finished and the cancelled. */
    private void decode(long now) {
        int kept = 0;
        int tokens = 0;
        for (Sequence seq : running) {
            if (seq.isCancelRequested()) {
                cache.release(seq.blocks());
                lora.finish(seq.adapter());
                cancelled.add(seq);
                continue;
            }
            tokens++;
            boolean last = seq.advance(now);
            if (seq.generated() == 1) {
                metrics.onFirstToken(now - seq.submitNanos());
            }
            if (last) {
                cache.release(seq.blocks());
                lora.finish(seq.adapter());
                metrics.onSuccess(now - seq.submitNanos());
                finished.add(seq);
            } else {
                running.set(kept++, seq);
            }
        }
        running.subList(kept, running.size()).clear();
        metrics.onGenerated(tokens);
        publish();
        publishView(0);
        // Signal only now, so that whoever reacts to a token sees gauges and counters including it.
        running.forEach(Sequence::signalProgress);
        finished.forEach(seq -> seq.terminate(Sequence.State.FINISHED, now));
        cancelled.forEach(seq -> seq.terminate(Sequence.State.CANCELLED, now));
        finished.clear();
        cancelled.clear();
    }

    private boolean drop(Sequence seq, long now) {
        waitingCount.decrementAndGet();
        seq.terminate(Sequence.State.CANCELLED, now);
        return true;
    }

    private void drainSubmitted() {
        for (Sequence seq; (seq = submitted.poll()) != null; ) {
            if (viewWanted) { // only an oracle's replay needs it; a sequence that came before counts no hits
                seq.expectHits(cache.cachedPrefixTokens(seq.prompt(), seq.promptTokens()));
            }
            waiting.add(seq);
        }
    }

    /** Publishes the state an oracle reads; {@code deadline} is the end of the step under way, or 0. */
    private void publishView(long deadline) {
        if (!viewWanted) {
            return;
        }
        List<EngineView.Seq> batch = new ArrayList<>(running.size());
        for (Sequence seq : running) {
            batch.add(new EngineView.Seq(seq.outputTokens() - seq.generated(), 0, seq.blocks().blocks(), seq.adapter()));
        }
        List<EngineView.Seq> queue = new ArrayList<>(waiting.size());
        for (Sequence seq : waiting) {
            queue.add(new EngineView.Seq(seq.outputTokens(), seq.promptTokens() - seq.expectedHits(),
                    cache.blocksFor(seq.promptTokens(), seq.outputTokens()), seq.adapter()));
        }
        view = new EngineView(deadline, batch, queue, cache.usedBlocks(), lora.resident());
    }

    private void awaitWork() {
        busy = false;
        idle = true;
        // Dekker with submit(): either it sees idle == true and unparks us, or we see its sequence.
        while (submitted.isEmpty() && !closed) {
            LockSupport.park(this);
        }
        idle = false;
    }

    /** Parks until {@code deadline}; returns false if the engine closed meanwhile. */
    private boolean parkUntil(long deadline) {
        for (long remaining; !closed; ) {
            remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                return true;
            }
            LockSupport.parkNanos(this, remaining);
        }
        return false;
    }

    private void publish() {
        runningCount = running.size();
        usedBlocks = cache.usedBlocks();
        runningAdapters = lora.runningNames();
        TreeSet<String> queued = new TreeSet<>();
        for (Sequence seq : waiting) {
            if (seq.adapter() != null) {
                queued.add(seq.adapter());
            }
        }
        waitingAdapters = String.join(",", queued);
    }

    private void failAll() {
        long now = System.nanoTime();
        running.forEach(seq -> seq.terminate(Sequence.State.FAILED, now));
        waiting.forEach(seq -> seq.terminate(Sequence.State.FAILED, now));
        running.clear();
        waiting.clear();
        runningCount = 0;
        usedBlocks = 0;
        failSubmitted();
        waitingCount.set(0);
    }

    private void failSubmitted() {
        long now = System.nanoTime();
        for (Sequence seq; (seq = submitted.poll()) != null; ) {
            seq.terminate(Sequence.State.FAILED, now);
        }
    }
}
