package io.aimesh.filter;

import static java.util.Objects.requireNonNull;

import io.aimesh.filter.api.WireContract;
import io.aimesh.filter.config.FilterConfigClient;
import io.aimesh.filter.config.RuntimeConfig;
import io.aimesh.internal.Secrets;
import io.aimesh.filter.extproc.BudgetSampler;
import io.aimesh.filter.extproc.ExplainPage;
import io.aimesh.filter.extproc.ExtProcService;
import io.aimesh.filter.extproc.RateLimitServer;
import io.aimesh.filter.extproc.FilterContext;
import io.aimesh.filter.report.VersionReporter;
import io.aimesh.filter.extproc.FilterMetrics;
import io.aimesh.filter.limit.GlobalBudgets;
import io.aimesh.filter.limit.TokenLimiter;
import io.aimesh.filter.api.Money;
import io.aimesh.filter.spend.SpendJournal;
import io.aimesh.filter.spend.SpendLedger;
import io.aimesh.filter.spend.SpendSharing;
import io.aimesh.picker.PoolPickers;
import io.aimesh.picker.PoolSetup;
import io.aimesh.internal.AdminServer;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The ai-filter: Envoy's external processor for AI traffic, configured by the control plane
 * over ADS, with an admin HTTP server ({@code /healthz}, {@code /readyz}, {@code /metrics},
 * {@code /config}).
 */
public final class AiFilter implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(AiFilter.class.getName());

    private final AtomicReference<RuntimeConfig> config = new AtomicReference<>();
    /** The budgets shared with the other replicas through Redis, or null when each replica limits alone. */
    private final AtomicReference<GlobalBudgets> global = new AtomicReference<>();
    /** The settings {@link #global} was made with; guarded by this. */
    private RuntimeConfig.GlobalLimitsInfo globalSettings;
    private final FilterMetrics metrics = new FilterMetrics();
    private final PoolPickers pickers = new PoolPickers();
    private final FilterContext context;
    private final FilterConfigClient configClient;
    private final VersionReporter reporter;
    private final Server grpc;
    private final AdminServer admin;
    private final java.time.Clock clock;
    private final SpendJournal journal;
    private final SpendLedger spend;
    /** This replica's name to the others in Redis: the journal's, so a restarted replica is the same one. */
    private final String replica;
    /** Spend shared through Redis, or null; guarded by this. */
    private volatile SpendSharing sharing;
    private final java.util.concurrent.ScheduledExecutorService sweeper = java.util.concurrent.Executors
            .newSingleThreadScheduledExecutor(r -> {
                Thread thread = new Thread(r, "aimesh-spend-sweep");
                thread.setDaemon(true);
                return thread;
            });

    /** The largest body any policy may allow, plus what an ext_proc message adds around it. */
    static final int MAX_INBOUND_MESSAGE_BYTES =
            Math.toIntExact(WireContract.MAX_REQUEST_BYTES + WireContract.EXT_PROC_OVERHEAD_BYTES);

    private AiFilter(AiFilterOptions options) throws IOException {
        clock = options.clock();
        if (options.spendDirectory() != null) {
            journal = SpendJournal.open(options.spendDirectory(), 16 << 20, 100);
            replica = journal.replica();
        } else {
            journal = null;
            replica = java.util.UUID.randomUUID().toString();
            LOG.log(Level.INFO, "no --spend-dir: spend budgets count in memory (and in Redis when shared); a restart of "
                    + "this replica forgets what it had not shared");
        }
        spend = new SpendLedger(clock, journal, alert -> {
            SpendSharing shared = sharing;
            if (shared == null) {
                announce(alert);
            } else {
                shared.once(alert.bucket() + "|" + alert.percent(), () -> announce(alert)); // once among the replicas
            }
        });
        sweeper.scheduleWithFixedDelay(spend::sweep, 1, 1, TimeUnit.MINUTES);
        TokenLimiter limiter = new TokenLimiter(System::currentTimeMillis, TokenLimiter.DEFAULT_MAX_BUDGETS);
        context = new FilterContext(config::get, limiter, metrics, pickers, global::get, spend);
        grpc = NettyServerBuilder.forAddress(new InetSocketAddress(options.grpcAddress(), options.grpcPort()))
                .addService(new ExtProcService(context))
                .addService(new RateLimitServer(context))
                // Every message is handled in microseconds without blocking (parse, count, a CAS per
                // budget), so it runs on the Netty event loop: handing each of a request's ~5 messages
                // to a worker pool and back cost ~120 µs of latency and ~120 µs of CPU per request in
                // the end-to-end benchmark. The one long task, counting a huge prompt, is bounded by
                // sampling (at most ~32 K characters of BPE per request).
                .directExecutor()
                // Envoy sends a buffered body whole, in one ext_proc message: gRPC's default 4 MiB limit
                // would fail the stream for bodies a policy allows (fail-closed: 500; fail-open: no
                // identity, no limits). The filter answers 413 itself above the policy's limit.
                .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .build()
                .start();
        admin = new AdminServer(new InetSocketAddress(options.adminAddress(), options.adminPort()), metrics.registry(),
                () -> config.get() != null, Map.of("/config", this::configPage));
        admin.page("/spend", new SpendPage(config::get, spend, clock, () -> sharing != null)::render);
        admin.page("/explain", new ExplainPage(context, limiter)::render);
        configClient = new FilterConfigClient(options, this::apply);
        // A quarter second: a rollout's rules can fail on the next report after a canary turns bad.
        reporter = new VersionReporter(context.versions(), metrics.traffic(), pickers::states,
                new BudgetSampler(context, limiter, metrics), configClient.channel(),
                options.namespace(), 250);
        LOG.log(Level.INFO, "ai-filter up: ext_proc on " + options.grpcAddress() + ":" + grpc.getPort() + ", admin on http://"
                + options.adminAddress() + ":" + admin.port() + ", config from " + options.controlPlane());
    }

    /**
     * Puts a new config in force: its picker pools first, so that no request finds a pool without
     * its picker; and its shared budgets, replaced only when their settings change (a replaced one
     * reports what it holds as it closes).
     */
    private synchronized void apply(RuntimeConfig next) {
        Map<String, PoolSetup> setups = new HashMap<>();
        next.pools().forEach((name, pool) -> setups.put(name, pool.setup()));
        pickers.configure(setups);
        context.plugins().configure(next.plugins()); // loaded (compiled) before a request can meet the config naming them
        RuntimeConfig.GlobalLimitsInfo wanted = next.globalLimits();
        if (!java.util.Objects.equals(wanted, globalSettings)) {
            GlobalBudgets previous = global.getAndSet(wanted == null ? null
                    : GlobalBudgets.connect(wanted.redis(), wanted.policy(), System::currentTimeMillis));
            globalSettings = wanted;
            if (previous != null) {
                // It reports what it holds as it closes; not on the ADS thread, which must go on.
                Thread closer = new Thread(previous::close, "aimesh-global-budgets-close");
                closer.setDaemon(true);
                closer.start();
            }
            SpendSharing before = sharing;
            sharing = wanted == null ? null : SpendSharing.start(spend, wanted.redis(), replica, wanted.spendLeaseMicros(),
                    wanted.policy().syncInterval(), wanted.policy().timeout(), clock);
            if (before != null) {
                Thread closer = new Thread(before::close, "aimesh-spend-sharing-close");
                closer.setDaemon(true);
                closer.start();
            }
        }
        config.set(next);
    }

    /** A soft threshold of a spend budget crossed: a metric and a log event. */
    private void announce(SpendLedger.Alert alert) {
        metrics.budgetAlert(alert);
        LOG.log(Level.WARNING, "budget alert: " + alert.rule().level().label() + " '" + alert.rule().account() + "' spent "
                + Money.format(alert.spentMicros()) + " of its " + alert.rule().period().label() + " budget of "
                + Money.format(alert.rule().amountMicros()) + " (" + alert.percent() + " % threshold; bucket "
                + alert.bucket() + ")");
    }

    /** Starts the filter; it answers 503 until its first config arrives from the control plane. */
    public static AiFilter start(AiFilterOptions options) throws IOException {
        return new AiFilter(requireNonNull(options, "options"));
    }

    public int grpcPort() {
        return grpc.getPort();
    }

    public int adminPort() {
        return admin.port();
    }

    /** The config version in force, or {@code null} before the first. */
    public String configVersion() {
        RuntimeConfig current = config.get();
        return current == null ? null : current.version();
    }

    private String configPage() {
        RuntimeConfig current = config.get();
        return current == null ? "{\"version\":null}\n"
                : Secrets.redact("{\"version\":\"" + current.version() + "\",\"summary\":\"" + current + "\"}\n");
    }

    @Override
    public void close() {
        // First: the streams still open end now and are charged while the journal and Redis can take it.
        grpc.shutdownNow();
        try {
            grpc.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        reporter.close();
        configClient.close();
        pickers.close();
        GlobalBudgets shared = global.getAndSet(null);
        if (shared != null) {
            shared.close();
        }
        synchronized (this) {
            if (sharing != null) {
                sharing.close();
                sharing = null;
            }
        }
        sweeper.shutdownNow();
        if (journal != null) {
            journal.close();
        }
        context.close();
        admin.close();
    }
}
