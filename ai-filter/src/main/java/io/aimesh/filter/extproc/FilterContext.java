package io.aimesh.filter.extproc;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.aimesh.filter.body.BodyParseResult;
import io.aimesh.filter.body.ParsedRequest;
import io.aimesh.filter.body.RequestKind;
import io.aimesh.filter.body.UsageRewriter;
import io.aimesh.filter.config.RuntimeConfig;
import io.aimesh.filter.config.RuntimeConfig.ModelInfo;
import io.aimesh.filter.config.RuntimeConfig.TenantInfo;
import io.aimesh.filter.limit.Admission;
import io.aimesh.filter.limit.GlobalBudgets;
import io.aimesh.filter.limit.LimitRule;
import io.aimesh.filter.limit.TokenLimiter;
import io.aimesh.filter.report.VersionRecorder;
import io.aimesh.filter.spend.SpendAdmission;
import io.aimesh.filter.spend.SpendLedger;
import io.aimesh.filter.spend.SpendRule;
import java.util.List;
import io.aimesh.picker.PoolPickers;
import java.util.function.Supplier;

/**
 * What every request's processor shares: the current config, the limiter, the picker pools and
 * their waiting room, the metrics. Thread-safe.
 */
public final class FilterContext {
    private final Supplier<RuntimeConfig> config;
    private final TokenLimiter limiter;
    private final FilterMetrics metrics;
    private final PoolPickers pickers;
    private final WaitingRoom waitingRoom = new WaitingRoom(System::nanoTime);
    private final EmbeddingCoalescer coalescer = new EmbeddingCoalescer();
    private final VersionRecorder versions = new VersionRecorder();
    private final ShadowSender shadows;
    private final io.aimesh.filter.wasm.PluginChain plugins;
    /** Fires when a canary request's first byte is overdue (see {@code LateThreshold}); cancelled tasks leave at once. */
    private final java.util.concurrent.ScheduledThreadPoolExecutor lateChecks = newLateChecks();
    private final Supplier<GlobalBudgets> global;
    private final SpendLedger spend;

    /**
     * @param config the current config, or {@code null} before the first one arrives
     * @param pickers the picker pools, kept in step with the config by the caller
     * @param global the budgets shared with the other replicas, or a supplier of {@code null} for this replica's alone
     * @param spend the spend budgets' ledger
     */
    public FilterContext(Supplier<RuntimeConfig> config, TokenLimiter limiter, FilterMetrics metrics, PoolPickers pickers,
                         Supplier<GlobalBudgets> global, SpendLedger spend) {
        this.global = requireNonNull(global, "global");
        this.spend = requireNonNull(spend, "spend");
        this.config = requireNonNull(config, "config");
        this.limiter = requireNonNull(limiter, "limiter");
        this.metrics = requireNonNull(metrics, "metrics");
        this.pickers = requireNonNull(pickers, "pickers");
        this.shadows = new ShadowSender(metrics);
        this.plugins = new io.aimesh.filter.wasm.PluginChain(io.aimesh.filter.wasm.WasmPlugin.Engine.COMPILER);
        metrics.pluginMetrics(plugins::current);
    }

    PoolPickers pickers() {
        return pickers;
    }

    WaitingRoom waitingRoom() {
        return waitingRoom;
    }

    EmbeddingCoalescer coalescer() {
        return coalescer;
    }

    ShadowSender shadows() {
        return shadows;
    }

    /** The Gateway's proxy-wasm plugins, loaded; the filter configures them before each config takes effect. */
    public io.aimesh.filter.wasm.PluginChain plugins() {
        return plugins;
    }

    java.util.concurrent.ScheduledExecutorService lateChecks() {
        return lateChecks;
    }

    private static java.util.concurrent.ScheduledThreadPoolExecutor newLateChecks() {
        java.util.concurrent.ScheduledThreadPoolExecutor timer = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread thread = new Thread(r, "aimesh-late-checks");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    /** What requests to the versions the filter chose measured, for the control plane's rollouts. */
    public VersionRecorder versions() {
        return versions;
    }

    /** Stops the waiting room's timer; requests still waiting are not answered (their streams close with the server). */
    public void close() {
        waitingRoom.close();
        coalescer.close();
        lateChecks.shutdownNow();
        plugins.close();
    }

    RuntimeConfig config() {
        return config.get();
    }

    FilterMetrics metrics() {
        return metrics;
    }

    /** The spend budgets' ledger. */
    public SpendLedger spend() {
        return spend;
    }

    BodyParseResult parse(RuntimeConfig config, String path, String contentType, ByteString body) {
        int query = path.indexOf('?');
        RequestKind kind = RequestKind.ofPath(query < 0 ? path : path.substring(0, query)).orElseThrow();
        return config.parser().parse(kind, contentType, body.toByteArray());
    }

    /**
     * Charges {@code hits} tokens (as prompt tokens) and one request to {@code tenant}'s budgets for
     * {@code model}, shared ones included, for the rate limit service: final, nothing is reconciled.
     */
    Admission admitHits(TenantInfo tenant, String model, long hits) {
        return limiter.admit(tenant.limits(), model, hits, 0, global.get());
    }

    /**
     * Estimates the request's tokens and reserves them against the tenant's budgets: all its input,
     * and the most output it may produce, {@link #reservedOutput}.
     */
    Exchange admit(RuntimeConfig config, TenantInfo tenant, String keyDigest, ModelInfo model, ParsedRequest request,
                   ByteString body) {
        long input = model.estimator().promptTokens(request);
        long output = reservedOutput(request, model.defaultMaxTokens());
        Admission admission = tenant == null ? null : limiter.admit(tenant.limits(), model.name(), input, output, global.get());
        SpendAdmission spent = null;
        if (tenant != null && (admission == null || admission.admitted())) {
            List<SpendRule> chain = config.spend().chain(tenant.name(), keyDigest);
            if (!chain.isEmpty()) {
                spent = spend.admit(chain, config.spend().reservationPrice(model.name()).cost(input, 0, output));
                if (!spent.admitted() && admission != null) {
                    admission.reservation().release(); // refused for money: the tokens were not used
                }
            }
        }
        ByteString rewritten = null;
        boolean admitted = (admission == null || admission.admitted()) && (spent == null || spent.admitted());
        if (admitted && request.needsUsageRequested()) {
            rewritten = UsageRewriter.rewrite(request, body.toByteArray()).map(ByteString::copyFrom).orElse(null);
        }
        return new Exchange(this, model.name(), tenant == null ? null : tenant.name(), request, admission, input, output,
                rewritten, config.cutOverrunningStreams(), spent, config.spend());
    }

    /**
     * The output a request may produce: its cap per answer ({@code max_tokens} or
     * {@code max_completion_tokens}, the larger; else the model's default) times its answers (the
     * larger of {@code n} and {@code best_of}, for each prompt of a prompt array). At most
     * {@link LimitRule#MAX_TOKENS}, which no budget can hold, so a weighted cost cannot overflow.
     */
    static long reservedOutput(ParsedRequest request, long defaultMaxTokens) {
        if (request.kind() == RequestKind.EMBEDDING) {
            return 0;
        }
        long perAnswer = request.maxTokens().orElse(defaultMaxTokens);
        long answers = request.outputMultiplier();
        return answers > LimitRule.MAX_TOKENS / perAnswer ? LimitRule.MAX_TOKENS : perAnswer * answers;
    }
}
