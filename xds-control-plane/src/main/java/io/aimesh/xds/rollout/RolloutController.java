package io.aimesh.xds.rollout;

import static java.util.Objects.requireNonNull;

import io.aimesh.filter.api.LateThreshold;
import io.aimesh.filter.api.VersionSample;
import io.aimesh.filter.api.VersionStatsAck;
import io.aimesh.filter.api.VersionStatsReport;
import io.aimesh.policy.ModelRoute;
import io.aimesh.policy.PolicySet;
import io.aimesh.policy.Rollout;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Runs the policies' rollouts: holds each at its step, takes in the filters' version numbers,
 * judges them every slot (a quarter second) with {@link RolloutJudge}, and moves the weights —
 * the next step when a step passes, 100 % to the canary after the last, 0 % at once when a rule
 * fails. The weights reach Envoy and the filters through the normal config push: the reloader
 * asks {@link #apply} for them at every compile, and this controller asks for a recompile when
 * they change.
 *
 * <p>Editing the policy while a rollout runs: a rollout is known by its model and its
 * (baseline, canary) pair. Same pair: it keeps its state and step (clamped to the new step
 * list), and the step's weight is the new list's. Another canary or baseline: a new rollout from
 * the first step. Rollout or route removed: its state is dropped and the route's own weights apply.
 *
 * <p>Threading: all state is confined to one thread; public methods hand their work to it.
 */
public final class RolloutController implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RolloutController.class.getName());
    /** How often a rollout is judged, in milliseconds: the filters report as often. */
    public static final long SLOT_MILLIS = 250;
    static final long SLOT_NANOS = TimeUnit.MILLISECONDS.toNanos(SLOT_MILLIS);
    /** Replicas whose last report sequence is remembered, to drop retried reports. */
    private static final int MAX_REPLICAS = 10_000;

    /** An operator's command. */
    public enum Action { PAUSE, RESUME, ABORT, PROMOTE }

    enum Phase {
        PROGRESSING("progressing"), PAUSED("paused"), PROMOTED("promoted"), ROLLED_BACK("rolled-back"), ABORTED("aborted");

        final String label;

        Phase(String label) {
            this.label = label;
        }

        boolean ended() {
            return this == PROMOTED || this == ROLLED_BACK || this == ABORTED;
        }

        static Phase of(String label) {
            for (Phase phase : values()) {
                if (phase.label.equals(label)) {
                    return phase;
                }
            }
            throw new IllegalArgumentException("state: " + label);
        }
    }

    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "aimesh-rollouts");
        t.setDaemon(true);
        return t;
    });
    /** Recompiles run here, never on the controller's thread: a reload may be waiting on that one. */
    private final ExecutorService pusher = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "aimesh-rollout-push");
        t.setDaemon(true);
        return t;
    });
    private final RolloutStore store;
    private final Runnable recompile;
    private final LongSupplier nanos;
    private final Clock clock;
    private final Gauge stepGauge;
    private final Gauge stateGauge;
    private final Gauge weightGauge;
    private final Counter reports;
    private volatile java.util.function.Consumer<VersionStatsReport> counted = report -> { };
    private final Counter transitions;
    /** Confined: the rollouts by key. */
    private final Map<String, Run> runs = new TreeMap<>();
    /** Confined: saved state not yet matched with a policy, from the file at start. */
    private final Map<String, RolloutStore.Entry> restored;
    private final Map<String, Long> sequences = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > MAX_REPLICAS;
        }
    };
    /** The weights in force, by rollout key; read by {@link #apply} on the reloader's thread. */
    private volatile Map<String, Weights> published = Map.of();
    /** The late thresholds of the running rollouts' canaries, by namespace, as the filters' acknowledgements carry them. */
    private volatile Map<String, VersionStatsAck> acks = Map.of();

    /** The weights a rollout sets, for the pair they belong to. */
    private record Weights(String baseline, String canary, int canaryWeight) {
    }

    /**
     * @param store where the state lasts
     * @param registry where the rollout metrics are registered
     * @param recompile asks for the policies to be compiled again (the weights changed)
     * @throws IOException when saved state exists but cannot be read
     */
    RolloutController(RolloutStore store, PrometheusRegistry registry, Runnable recompile, LongSupplier nanos, Clock clock)
            throws IOException {
        this.store = store;
        this.recompile = requireNonNull(recompile, "recompile");
        this.nanos = nanos;
        this.clock = clock;
        this.restored = new TreeMap<>(store.load());
        // Until the policies are loaded, the saved weights are the ones to serve: a rolled-back
        // canary must not get its first step's share back for a moment after a restart.
        Map<String, Weights> saved = new HashMap<>();
        restored.forEach((key, entry) -> saved.put(key, new Weights(entry.baseline(), entry.canary(), entry.canaryWeight())));
        published = Map.copyOf(saved);
        stepGauge = Gauge.builder().name("aimesh_rollout_step").help("The step a rollout is at or ended on, 1-based")
                .labelNames("model").register(registry);
        stateGauge = Gauge.builder().name("aimesh_rollout_state")
                .help("1 for a rollout's current state (progressing, paused, promoted, rolled-back, aborted), else 0")
                .labelNames("model", "state").register(registry);
        weightGauge = Gauge.builder().name("aimesh_rollout_canary_weight").help("The canary's percent of a rollout's traffic")
                .labelNames("model").register(registry);
        reports = Counter.builder().name("aimesh_rollout_reports_total")
                .help("Version reports from ai-filter replicas, by outcome (counted, duplicate)").labelNames("outcome")
                .register(registry);
        transitions = Counter.builder().name("aimesh_rollout_transitions_total")
                .help("Rollout state changes and steps, by model and the state entered").labelNames("model", "state")
                .register(registry);
    }

    /** A controller on the system clocks, its state in {@code stateFile} ({@code null}: memory only). */
    public static RolloutController start(java.nio.file.Path stateFile, PrometheusRegistry registry, Runnable recompile)
            throws IOException {
        RolloutController controller = new RolloutController(new RolloutStore(stateFile), registry, recompile, System::nanoTime,
                Clock.systemUTC());
        controller.executor.scheduleAtFixedRate(controller::tick, SLOT_NANOS, SLOT_NANOS, TimeUnit.NANOSECONDS);
        return controller;
    }

    /**
     * A controller on its caller's clocks that schedules nothing, its state in memory: the caller
     * calls {@link #evaluate} once per slot ({@link #SLOT_MILLIS}). For simulations and benchmarks,
     * which replay a request stream faster than real time through the same judging.
     */
    public static RolloutController driven(LongSupplier nanos, Clock clock) throws IOException {
        return new RolloutController(new RolloutStore(null), new PrometheusRegistry(), () -> { }, nanos, clock);
    }

    /** The rollout key of a route of {@code namespace}. */
    static String key(String namespace, String model) {
        return namespace.isEmpty() ? model : namespace + "/" + model;
    }

    /**
     * {@code scoped} (the policies of {@code namespace}) with each rollout's weights in place of its
     * route's: baseline and canary share 100, other versions 0. A rollout not yet configured starts
     * at its first step. Any thread.
     */
    public PolicySet apply(String namespace, PolicySet scoped) {
        Map<String, Weights> weights = published;
        PolicySet result = scoped;
        for (ModelRoute route : scoped.routes()) {
            Rollout rollout = route.rollout();
            if (rollout == null) {
                continue;
            }
            Weights w = weights.get(key(namespace, route.model()));
            int canaryWeight = w != null && w.baseline.equals(rollout.baseline()) && w.canary.equals(rollout.canary())
                    ? w.canaryWeight : rollout.steps().get(0).weight();
            Map<String, Integer> split = new HashMap<>();
            split.put(rollout.canary(), canaryWeight);
            split.put(rollout.baseline(), 100 - canaryWeight);
            result = result.withRoute(route.withWeights(split));
        }
        return result;
    }

    /** Takes in the rollouts of a policy set that was loaded and compiled; waits until done. */
    public void configure(PolicySet policies) {
        call(() -> {
            configureNow(policies);
            return null;
        });
    }

    /**
     * Also tells {@code listener} of every report this controller counts (a retried copy is dropped
     * before), on the controller's thread; for the dashboard, which adds up the same reports.
     */
    public void onCounted(java.util.function.Consumer<VersionStatsReport> listener) {
        this.counted = requireNonNull(listener, "listener");
    }

    /** Takes in a filter replica's report; any thread, does not wait. */
    public void report(VersionStatsReport report) {
        executor.execute(() -> reportNow(report));
    }

    /**
     * The acknowledgement for a filter report of {@code namespace}: the late thresholds of its
     * running rollouts' canaries, updated every slot. Any thread.
     */
    public VersionStatsAck ack(String namespace) {
        return acks.getOrDefault(namespace, VersionStatsAck.getDefaultInstance());
    }

    /** The rollouts, by key. */
    public List<RolloutStatus> statuses() {
        return call(() -> runs.values().stream().map(Run::status).toList());
    }

    /** The rollout of {@code model} (its key), or {@code null}. */
    public RolloutStatus status(String model) {
        return call(() -> runs.containsKey(model) ? runs.get(model).status() : null);
    }

    /**
     * Carries out an operator's command on the rollout of {@code model}.
     *
     * @throws IllegalArgumentException when there is no such rollout
     * @throws IllegalStateException when the command does not apply to its state
     */
    public RolloutStatus act(String model, Action action) {
        return call(() -> {
            Run run = runs.get(model);
            if (run == null) {
                throw new IllegalArgumentException("no rollout of model '" + model + "'" + (runs.isEmpty() ? ""
                        : " (rollouts: " + String.join(", ", runs.keySet()) + ")"));
            }
            run.act(action);
            changed();
            return run.status();
        });
    }

    private void configureNow(PolicySet policies) {
        Map<String, Run> next = new TreeMap<>();
        for (String namespace : policies.namespaces()) {
            for (ModelRoute route : policies.scope(namespace).routes()) {
                if (route.rollout() == null) {
                    continue;
                }
                String key = key(namespace, route.model());
                Rollout spec = route.rollout();
                Run run = runs.get(key);
                if (run != null && run.samePair(spec)) {
                    run.respec(spec);
                } else {
                    RolloutStore.Entry saved = restored.remove(key);
                    run = new Run(key, namespace, route.model(), spec);
                    if (saved != null && saved.baseline().equals(spec.baseline()) && saved.canary().equals(spec.canary())) {
                        run.restore(saved);
                        LOG.log(Level.INFO, "rollout " + key + " resumed from saved state: " + run.phase.label + " at step "
                                + (run.step + 1));
                    } else {
                        LOG.log(Level.INFO, "rollout " + key + " of " + spec.canary() + " starts at step 1 ("
                                + spec.steps().get(0).weight() + " %)");
                        transitions.labelValues(key, run.phase.label).inc();
                    }
                }
                next.put(key, run);
            }
        }
        for (String gone : runs.keySet()) {
            if (!next.containsKey(gone)) {
                LOG.log(Level.INFO, "rollout " + gone + " removed from the policies; the route's own weights apply");
                stepGauge.remove(gone);
                weightGauge.remove(gone);
                for (Phase phase : Phase.values()) {
                    stateGauge.remove(gone, phase.label);
                }
            }
        }
        runs.clear();
        runs.putAll(next);
        changed();
    }

    private void reportNow(VersionStatsReport report) {
        Long last = sequences.get(report.getReplica());
        if (last != null && report.getSequence() <= last) {
            reports.labelValues("duplicate").inc();
            return;
        }
        sequences.put(report.getReplica(), report.getSequence());
        reports.labelValues("counted").inc();
        try {
            counted.accept(report);
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "a counted report's listener failed", e);
        }
        java.util.Set<Run> touched = new java.util.HashSet<>();
        for (VersionSample sample : report.getVersionsList()) {
            Run run = runs.get(key(report.getNamespace(), sample.getModel()));
            if (run != null) {
                run.take(sample);
                touched.add(run);
            }
        }
        boolean moved = false;
        for (Run run : touched) {
            moved |= run.judgeNow();
        }
        if (moved) {
            changed();
        }
    }

    private void tick() {
        try {
            boolean moved = false;
            for (Run run : runs.values()) {
                moved |= run.tick();
            }
            if (moved) {
                changed();
            }
            publishLateThresholds();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "rollout evaluation failed", e); // the next tick tries again
        }
    }

    private void publishLateThresholds() {
        Map<String, VersionStatsAck.Builder> byNamespace = new HashMap<>();
        for (Run run : runs.values()) {
            long micros = run.phase.ended() ? 0 : RolloutJudge.lateThresholdMicros(run.spec.analysis(), run.windowBaseline());
            if (micros > 0) {
                byNamespace.computeIfAbsent(run.namespace, n -> VersionStatsAck.newBuilder()).addLate(LateThreshold.newBuilder()
                        .setModel(run.model).setVersion(run.spec.canary()).setTtftMicros(micros));
            }
        }
        Map<String, VersionStatsAck> next = new HashMap<>();
        byNamespace.forEach((namespace, ack) -> next.put(namespace, ack.build()));
        acks = Map.copyOf(next);
    }

    /** Publishes the weights, saves the state and updates the metrics; asks for a recompile when a weight moved. */
    private void changed() {
        Map<String, Weights> weights = new HashMap<>();
        Map<String, RolloutStore.Entry> entries = new TreeMap<>();
        for (Run run : runs.values()) {
            weights.put(run.key, new Weights(run.spec.baseline(), run.spec.canary(), run.canaryWeight()));
            entries.put(run.key, run.entry());
            stepGauge.labelValues(run.key).set(run.step + 1);
            weightGauge.labelValues(run.key).set(run.canaryWeight());
            for (Phase phase : Phase.values()) {
                stateGauge.labelValues(run.key, phase.label).set(phase == run.phase ? 1 : 0);
            }
        }
        try {
            store.save(entries);
        } catch (IOException e) {
            LOG.log(Level.ERROR, "cannot save the rollout state to " + store.file() + ": " + e.getMessage()
                    + "; a restart now would resume from the last saved state");
        }
        boolean moved = !weights.equals(published);
        published = Map.copyOf(weights);
        if (moved) {
            pusher.execute(recompile);
        }
    }

    private <T> T call(java.util.concurrent.Callable<T> task) {
        try {
            return executor.submit(task).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
        pusher.shutdownNow();
    }

    /** One rollout's state. Confined to the controller's thread. */
    private final class Run {
        final String key;
        final String namespace;
        final String model;
        Rollout spec;
        Phase phase = Phase.PROGRESSING;
        int step;
        long stepStartNanos = nanos.getAsLong();
        Instant stepSince = clock.instant();
        String reason;
        Instant endedAt;
        /** The window: closed slots, oldest first, each {baseline, canary}. */
        final ArrayDeque<VersionNumbers[]> slots = new ArrayDeque<>();
        VersionNumbers[] current = newSlot();
        final VersionNumbers stepBaseline = new VersionNumbers();
        final VersionNumbers stepCanary = new VersionNumbers();
        String waitingOn;

        Run(String key, String namespace, String model, Rollout spec) {
            this.key = key;
            this.namespace = namespace;
            this.model = model;
            this.spec = spec;
        }

        /** The baseline's numbers over the window's closed slots. */
        VersionNumbers windowBaseline() {
            VersionNumbers baseline = new VersionNumbers();
            for (VersionNumbers[] slot : slots) {
                baseline.add(slot[0]);
            }
            return baseline;
        }

        boolean samePair(Rollout other) {
            return spec.baseline().equals(other.baseline()) && spec.canary().equals(other.canary());
        }

        void respec(Rollout next) {
            spec = next;
            if (step >= next.steps().size()) {
                step = next.steps().size() - 1;
            }
        }

        void restore(RolloutStore.Entry saved) {
            phase = Phase.of(saved.state());
            step = Math.min(Math.max(saved.step(), 0), spec.steps().size() - 1);
            reason = saved.reason();
            endedAt = saved.endedAtMillis() == 0 ? null : Instant.ofEpochMilli(saved.endedAtMillis());
            // The step's hold time counts across the restart; its numbers start again.
            stepSince = Instant.ofEpochMilli(saved.stepSinceMillis());
            long held = Math.max(0, clock.millis() - saved.stepSinceMillis());
            stepStartNanos = nanos.getAsLong() - TimeUnit.MILLISECONDS.toNanos(held);
        }

        int canaryWeight() {
            return switch (phase) {
                case PROGRESSING, PAUSED -> spec.steps().get(step).weight();
                case PROMOTED -> 100;
                case ROLLED_BACK, ABORTED -> 0;
            };
        }

        void take(VersionSample sample) {
            if (sample.getVersion().equals(spec.baseline())) {
                current[0].add(sample);
            } else if (sample.getVersion().equals(spec.canary())) {
                current[1].add(sample);
            }
        }

        /** Closes the slot and judges; returns whether the state moved. */
        boolean tick() {
            slots.addLast(current);
            current = newSlot();
            long window = Math.max(1, spec.analysis().window().toNanos() / SLOT_NANOS);
            while (slots.size() > window) {
                slots.removeFirst();
            }
            if (phase.ended()) {
                return false;
            }
            VersionNumbers[] closed = slots.peekLast();
            stepBaseline.add(closed[0]);
            stepCanary.add(closed[1]);
            if (judgeFailure(List.copyOf(slots))) {
                return true;
            }
            if (phase == Phase.PAUSED) {
                return false;
            }
            Rollout.Step current = spec.steps().get(step);
            long held = nanos.getAsLong() - stepStartNanos;
            if (held < current.minDuration().toNanos()) {
                waitingOn = "minDuration " + current.minDuration().toSeconds() + "s";
                return false;
            }
            if (stepCanary.requests < current.minRequests()) {
                waitingOn = "minRequests " + current.minRequests() + " (canary has " + stepCanary.requests + ")";
                return false;
            }
            RolloutJudge.Finding unmet = RolloutJudge.unmet(spec.analysis(), stepBaseline, stepCanary);
            if (unmet != null) {
                waitingOn = unmet.toString();
                return false;
            }
            if (step + 1 < spec.steps().size()) {
                step++;
                startStep();
                transitions.labelValues(key, "step-" + (step + 1)).inc();
                LOG.log(Level.INFO, "rollout " + key + " of " + spec.canary() + ": step " + (step + 1) + " ("
                        + canaryWeight() + " %)");
            } else {
                end(Phase.PROMOTED, "every step passed");
                LOG.log(Level.INFO, "rollout " + key + " of " + spec.canary() + " promoted");
            }
            return true;
        }

        /** Rolls back when a rule fails on {@code window}; returns whether it did. */
        boolean judgeFailure(List<VersionNumbers[]> window) {
            RolloutJudge.Finding failure = RolloutJudge.failure(spec.analysis(), window);
            if (failure == null) {
                return false;
            }
            end(Phase.ROLLED_BACK, failure.toString());
            LOG.log(Level.WARNING, "rollout " + key + " of " + spec.canary() + " rolled back at step " + (step + 1) + ": "
                    + reason);
            return true;
        }

        /**
         * Bad news in a report (canary errors, overload refusals or late requests) is judged at once,
         * on the window with the open slot, rather than at the slot's end: a quarter second fewer bad
         * answers.
         */
        boolean judgeNow() {
            if (phase.ended() || current[1].errors + current[1].overloads + current[1].late == 0) {
                return false;
            }
            List<VersionNumbers[]> window = new ArrayList<>(slots);
            window.add(current);
            return judgeFailure(window);
        }

        void act(Action action) {
            switch (action) {
                case PAUSE -> {
                    require(phase == Phase.PROGRESSING, "pause", "progressing");
                    phase = Phase.PAUSED;
                }
                case RESUME -> {
                    require(phase != Phase.PROGRESSING && phase != Phase.PROMOTED, "resume", "paused, rolled-back or aborted");
                    if (phase.ended()) {
                        step = 0; // a rollout that ended starts over, on the operator's word
                        reason = null;
                        endedAt = null;
                    }
                    phase = Phase.PROGRESSING;
                    startStep();
                }
                case ABORT -> {
                    require(!phase.ended(), "abort", "progressing or paused");
                    end(Phase.ABORTED, "aborted by an operator");
                }
                case PROMOTE -> {
                    require(phase != Phase.PROMOTED, "promote", "not promoted");
                    end(Phase.PROMOTED, "promoted by an operator");
                }
            }
            transitions.labelValues(key, phase.label).inc();
            LOG.log(Level.INFO, "rollout " + key + ": " + action.name().toLowerCase(Locale.ROOT) + " by an operator, now "
                    + phase.label + " at step " + (step + 1));
        }

        private void require(boolean allowed, String action, String states) {
            if (!allowed) {
                throw new IllegalStateException("cannot " + action + " the rollout of " + key + ": it is " + phase.label
                        + " (expected: " + states + ")");
            }
        }

        private void end(Phase to, String why) {
            phase = to;
            reason = why;
            endedAt = clock.instant();
            waitingOn = null;
            transitions.labelValues(key, to.label).inc();
        }

        private void startStep() {
            stepStartNanos = nanos.getAsLong();
            stepSince = clock.instant();
            stepBaseline.clear();
            stepCanary.clear();
            slots.clear();
            waitingOn = null;
        }

        RolloutStore.Entry entry() {
            return new RolloutStore.Entry(spec.baseline(), spec.canary(), phase.label, step, canaryWeight(),
                    stepSince.toEpochMilli(), reason,
                    endedAt == null ? 0 : endedAt.toEpochMilli());
        }

        RolloutStatus status() {
            return new RolloutStatus(key, spec.baseline(), spec.canary(), phase.label, step + 1, spec.steps().size(),
                    canaryWeight(), stepSince.toString(), stepBaseline.requests, stepCanary.requests,
                    phase.ended() ? null : waitingOn, reason, endedAt == null ? null : endedAt.toString());
        }

        private VersionNumbers[] newSlot() {
            return new VersionNumbers[] {new VersionNumbers(), new VersionNumbers()};
        }
    }

    /** Closes the current slot and judges every rollout now, as the schedule does each slot; waits until done. */
    public void evaluate() {
        call(() -> {
            tick();
            return null;
        });
    }

    /** As {@link #report}, but waits until the report is counted. */
    public void reportAndWait(VersionStatsReport report) {
        call(() -> {
            reportNow(report);
            return null;
        });
    }
}
