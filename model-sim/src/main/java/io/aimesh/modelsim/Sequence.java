package io.aimesh.modelsim;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * One request inside the {@link InferenceEngine}: its sizes, its progress and the hand-off of generated
 * tokens to the thread that submitted it.
 *
 * <p>Threading: the engine thread advances {@link #generated()} and the state; the submitting thread
 * (the <em>waiter</em>, usually an HTTP handler) blocks in {@link #awaitProgress} or
 * {@link #awaitTermination} and is unparked after every change. Any thread may read progress and
 * request cancellation. The engine writes {@code generated} before it writes a terminal state, so a
 * reader that sees a terminal state and then reads {@code generated} sees the final count. Timestamps
 * are written by the engine before the terminal state and are meaningful once {@link #isDone()}.
 */
final class Sequence {

    enum State {
        WAITING, RUNNING, FINISHED, CANCELLED, FAILED;

        boolean isTerminal() {
            return this == FINISHED || this == CANCELLED || this == FAILED;
        }
    }

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Sequence.class, "state", State.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int promptTokens;
    private final int outputTokens;
    private final PromptBlocks prompt;
    private final String adapter;
    private final long submitNanos;
    private final Thread waiter;

    private volatile State state = State.WAITING;
    private volatile int generated;
    private volatile boolean cancelRequested;

    // Written by the engine thread only, published by the volatile state write that ends the sequence.
    private long admitNanos;
    private KvCache.Allocation blocks;
    private int expectedHits;
    private long firstTokenNanos;
    private long endNanos;

    Sequence(int promptTokens, int outputTokens, PromptBlocks prompt, String adapter, long submitNanos, Thread waiter) {
        this.promptTokens = promptTokens;
        this.outputTokens = outputTokens;
        this.prompt = prompt;
        this.adapter = adapter;
        this.submitNanos = submitNanos;
        this.waiter = waiter;
    }

    int promptTokens() {
        return promptTokens;
    }

    /** Tokens this sequence generates before it finishes. */
    int outputTokens() {
        return outputTokens;
    }

    /** The keys of the prompt's full KV blocks, for the prefix cache. */
    PromptBlocks prompt() {
        return prompt;
    }

    /** The LoRA adapter the sequence runs with, or {@code null} for the base model. */
    String adapter() {
        return adapter;
    }

    /** The prompt tokens the prefix cache held when the sequence arrived; engine thread only. */
    int expectedHits() {
        return expectedHits;
    }

    void expectHits(int tokens) {
        expectedHits = tokens;
    }

    /** The KV blocks held while running; engine thread only. */
    KvCache.Allocation blocks() {
        return blocks;
    }

    int generated() {
        return generated;
    }

    State state() {
        return state;
    }

    boolean isDone() {
        return state.isTerminal();
    }

    long submitNanos() {
        return submitNanos;
    }

    long admitNanos() {
        return admitNanos;
    }

    long firstTokenNanos() {
        return firstTokenNanos;
    }

    /** {@link System#nanoTime()} when the sequence finished, was cancelled or failed. */
    long endNanos() {
        return endNanos;
    }

    /** Marks the sequence for cancellation; any thread, through {@link InferenceEngine#cancel}. */
    void requestCancel() {
        cancelRequested = true;
    }

    boolean isCancelRequested() {
        return cancelRequested;
    }

    /**
     * Blocks the waiter until more than {@code seen} tokens exist or the sequence is done, and returns
     * the token count. Waiter thread only.
     */
    int awaitProgress(int seen) throws InterruptedException {
        while (generated <= seen && !state.isTerminal()) {
            park();
        }
        return generated;
    }

    /** Blocks the waiter until the sequence is done and returns its final state. Waiter thread only. */
    State awaitTermination() throws InterruptedException {
        State current;
        while (!(current = state).isTerminal()) {
            park();
        }
        return current;
    }

    private void park() throws InterruptedException {
        LockSupport.park(this);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
    }

    // ---- engine side -------------------------------------------------------------------------------

    void admit(long nowNanos, KvCache.Allocation held) {
        admitNanos = nowNanos;
        blocks = held;
        state = State.RUNNING;
    }

    /**
     * Adds one generated token at {@code nowNanos} and returns whether that was the last one. Does
     * not wake the waiter: the engine calls {@link #signalProgress} or {@link #terminate} after it has
     * updated its own state.
     */
    boolean advance(long nowNanos) {
        int count = generated + 1; // single writer: the engine thread
        if (count == 1) {
            firstTokenNanos = nowNanos;
        }
        generated = count;
        return count == outputTokens;
    }

    void signalProgress() {
        LockSupport.unpark(waiter);
    }

    /**
     * Moves the sequence to a terminal state unless it already is in one; returns whether it did.
     * Any thread: {@link InferenceEngine#close()} may race a submitter failing the same sequence.
     */
    boolean terminate(State terminal, long nowNanos) {
        State current = state;
        while (!current.isTerminal()) {
            endNanos = nowNanos;
            if (STATE.compareAndSet(this, current, terminal)) {
                LockSupport.unpark(waiter);
                return true;
            }
            current = state;
        }
        return false;
    }
}
