package io.aimesh.filter.report;

import static java.util.Objects.requireNonNull;

import io.aimesh.filter.api.BudgetSample;
import io.aimesh.filter.api.EndpointSample;
import io.aimesh.filter.api.TenantSample;
import io.aimesh.filter.api.VersionSample;
import io.aimesh.filter.api.VersionStatsAck;
import io.aimesh.filter.api.VersionStatsReport;
import io.aimesh.filter.api.VersionStatsRpc;
import io.grpc.Channel;
import io.grpc.CallOptions;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Sends what the {@link VersionRecorder} measured to the control plane every period, on the
 * channel of the filter's config stream. At most one report is outstanding: a report that failed
 * is sent again as it was (same sequence, so the control plane can drop it if the first copy did
 * arrive), and what is measured meanwhile waits in the recorder for the next one. Nothing is lost
 * while the control plane is away, and nothing is counted twice. An error or overload is reported
 * at once rather than at the next period: the control plane judges such news as it arrives, and a
 * failing canary then serves a quarter second less.
 *
 * <p>The same reports carry the dashboard's numbers ({@link TrafficRecorder}): traffic per tenant
 * with every report, the picker endpoints and the active tenants' budgets at most once a second.
 *
 * <p>Threading: one scheduler thread does all the sending.
 */
public final class VersionReporter implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(VersionReporter.class.getName());

    private static final long ENDPOINTS_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final VersionRecorder recorder;
    private final TrafficRecorder traffic;
    private final java.util.function.Supplier<java.util.Map<String, io.aimesh.picker.PoolState>> pools;
    private final java.util.function.Supplier<List<BudgetSample>> budgets;
    private final Channel channel;
    private final String namespace;
    private final String replica = UUID.randomUUID().toString();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "aimesh-version-reports");
        t.setDaemon(true);
        return t;
    });
    /** Confined to the scheduler. */
    private long sequence;
    /** Confined to the scheduler: the report not yet acknowledged, or null. */
    private VersionStatsReport pending;
    private boolean failing;
    /** Confined to the scheduler: when endpoints were last put in a report. */
    private long endpointsAt = System.nanoTime() - ENDPOINTS_EVERY_NANOS;
    /** Whether a report for bad news is already queued: a burst of errors sends one. */
    private final java.util.concurrent.atomic.AtomicBoolean nudged = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * @param namespace the filter's config scope, or {@code null} for the default one
     * @param pools the picker pools' states now
     * @param budgets the active tenants' budgets now
     * @param periodMillis how often to report, {@code > 0}
     */
    public VersionReporter(VersionRecorder recorder, TrafficRecorder traffic,
                           java.util.function.Supplier<java.util.Map<String, io.aimesh.picker.PoolState>> pools,
                           java.util.function.Supplier<List<BudgetSample>> budgets, Channel channel,
                           String namespace, long periodMillis) {
        this.budgets = requireNonNull(budgets, "budgets");
        this.recorder = requireNonNull(recorder, "recorder");
        this.traffic = requireNonNull(traffic, "traffic");
        this.pools = requireNonNull(pools, "pools");
        this.channel = requireNonNull(channel, "channel");
        this.namespace = namespace == null ? "" : namespace;
        if (periodMillis <= 0) {
            throw new IllegalArgumentException("periodMillis: " + periodMillis + " (expected: > 0)");
        }
        scheduler.scheduleWithFixedDelay(this::report, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
        recorder.onBadNews(this::reportSoon);
    }

    private void reportSoon() {
        if (nudged.compareAndSet(false, true)) {
            try {
                scheduler.execute(() -> {
                    nudged.set(false);
                    report();
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                nudged.set(false); // closed
            }
        }
    }

    private void report() {
        if (pending == null) {
            List<VersionSample> samples = recorder.drain();
            List<TenantSample> tenants = traffic.drainTenants();
            List<EndpointSample> endpoints = List.of();
            List<BudgetSample> budgeted = List.of();
            long now = System.nanoTime();
            if (now - endpointsAt >= ENDPOINTS_EVERY_NANOS) {
                endpoints = traffic.endpoints(pools.get());
                budgeted = budgets.get();
                endpointsAt = now;
            }
            if (samples.isEmpty() && tenants.isEmpty() && endpoints.isEmpty() && budgeted.isEmpty()) {
                return;
            }
            pending = VersionStatsReport.newBuilder().setReplica(replica).setSequence(++sequence).setNamespace(namespace)
                    .addAllVersions(samples).addAllTenants(tenants).addAllEndpoints(endpoints).addAllBudgets(budgeted).build();
        }
        try {
            VersionStatsAck ack = ClientCalls.blockingUnaryCall(channel, VersionStatsRpc.REPORT,
                    CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS), pending);
            pending = null;
            recorder.lateThresholds(ack.getLateList());
            if (failing) {
                failing = false;
                LOG.log(Level.INFO, "version reports reach the control plane again");
            }
        } catch (StatusRuntimeException e) {
            if (!failing) {
                failing = true;
                LOG.log(Level.WARNING, "cannot report version numbers to the control plane (" + e.getStatus()
                        + "); keeping them for the next try");
            }
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
