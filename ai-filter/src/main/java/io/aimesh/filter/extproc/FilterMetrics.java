package io.aimesh.filter.extproc;

import io.aimesh.filter.report.TrafficRecorder;
import io.aimesh.filter.spend.SpendLedger;
import io.aimesh.filter.spend.SpendRule;
import io.aimesh.picker.Pick;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The filter's Prometheus metrics. Names follow the OpenTelemetry GenAI semantic conventions
 * where one maps ({@code gen_ai.client.token.usage}, {@code gen_ai.client.operation.duration},
 * {@code gen_ai.server.time_to_first_token}), converted to Prometheus style: dots to
 * underscores, units as suffixes; attributes become labels ({@code gen_ai_token_type},
 * {@code gen_ai_request_model}) plus aimesh's {@code tenant}. Thread-safe.
 */
public final class FilterMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Histogram tokenUsage = Histogram.builder().name("gen_ai_client_token_usage")
            .help("Tokens per request, by type (input, output), model and tenant; from the model server's usage")
            .unit(new io.prometheus.metrics.model.snapshots.Unit("tokens"))
            .labelNames("gen_ai_token_type", "gen_ai_request_model", "tenant").classicOnly()
            .classicExponentialUpperBounds(1, 4, 10).register(registry);
    private final Counter tokens = Counter.builder().name("aimesh_filter_tokens_total")
            .help("Tokens used, by type (input, output), model and tenant")
            .labelNames("type", "model", "tenant").register(registry);
    private final Counter requests = Counter.builder().name("aimesh_filter_requests_total")
            .help("Inference requests by outcome: admitted, limited (429), denied (401, 403, 404), shed (503, pool saturated),"
                    + " error (bad request or failure)")
            .labelNames("outcome", "model", "tenant").register(registry);
    private final Histogram duration = Histogram.builder().name("gen_ai_client_operation_duration_seconds")
            .help("Time from the request reaching the filter to the end of the response, by model")
            .labelNames("gen_ai_request_model").classicOnly()
            .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120).register(registry);
    private final Histogram timeToFirstToken = Histogram.builder().name("gen_ai_server_time_to_first_token_seconds")
            .help("Time from the request reaching the filter to the first response body bytes, by model")
            .labelNames("gen_ai_request_model").classicOnly()
            .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10).register(registry);
    private final Counter picks = Counter.builder().name("aimesh_filter_picks_total")
            .help("Endpoint picks in picker pools, by pool, endpoint (ip:port) and outcome: picked, saturated, none_healthy,"
                    + " queued (every endpoint saturated, the request waits; its final pick is counted too)")
            .labelNames("pool", "endpoint", "outcome").register(registry);
    private final Counter shadowRequests = Counter.builder().name("aimesh_filter_shadow_requests_total")
            .help("Shadow copies (ModelRoute mirror) by model, mirrored version and outcome: ok, error (non-2xx or failed),"
                    + " shed_in_flight (maxInFlight copies out), shed_saturated (the version's pool saturated or queueing)")
            .labelNames("model", "version", "outcome").register(registry);
    private final Counter shadowTokens = Counter.builder().name("aimesh_filter_shadow_tokens_total")
            .help("Tokens shadow copies used, by type (input, output), model and mirrored version; charged to no budget")
            .labelNames("type", "model", "version").register(registry);
    private final Histogram shadowDuration = Histogram.builder().name("aimesh_filter_shadow_duration_seconds")
            .help("Time from sending a shadow copy to the end of its answer, by model and mirrored version")
            .labelNames("model", "version").classicOnly()
            .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120).register(registry);
    private final Counter spend = Counter.builder().name("aimesh_spend_total")
            .help("Money spent (the Gateway's currency), by level (key, tenant, team, organization), account name and model;"
                    + " this replica's settlements")
            .labelNames("level", "name", "model").register(registry);
    private final Gauge budgetRemaining = Gauge.builder().name("aimesh_budget_remaining")
            .help("What is left of an account's tightest spend budget this period (the Gateway's currency), as this replica"
                    + " last settled against it")
            .labelNames("level", "name").register(registry);
    private final Counter budgetAlerts = Counter.builder().name("aimesh_budget_alerts_total")
            .help("Soft thresholds of spend budgets crossed, once per period, by level, account, period and percent")
            .labelNames("level", "name", "period", "percent").register(registry);
    private final Counter plugins = Counter.builder().name("aimesh_filter_plugin_requests_total")
            .help("Requests a proxy-wasm plugin ran on, by plugin and outcome: passed, answered (the plugin answered"
                    + " itself), failed (trapped or not loaded)")
            .labelNames("plugin", "outcome").register(registry);
    private final Gauge reservations = Gauge.builder().name("aimesh_filter_reservations_outstanding")
            .help("Token reservations taken at admission and not yet reconciled").register(registry);

    /** The same numbers per tenant and endpoint, for the control plane's dashboard (see {@code VersionReporter}). */
    private final TrafficRecorder traffic = new TrafficRecorder();

    public PrometheusRegistry registry() {
        return registry;
    }

    public TrafficRecorder traffic() {
        return traffic;
    }

    void outcome(Outcome outcome, String model, String tenant) {
        requests.labelValues(outcome.label(), label(model), label(tenant)).inc();
        traffic.outcome(tenant, model, outcome.label());
    }

    void usage(String model, String tenant, long input, long output) {
        String m = label(model);
        String t = label(tenant);
        tokenUsage.labelValues("input", m, t).observe(input);
        tokenUsage.labelValues("output", m, t).observe(output);
        tokens.labelValues("input", m, t).inc(input);
        tokens.labelValues("output", m, t).inc(output);
        traffic.usage(tenant, model, input, output);
    }

    void firstToken(String model, long nanos) {
        observe(timeToFirstToken.labelValues(label(model)), nanos);
    }

    void finished(String model, long nanos) {
        observe(duration.labelValues(label(model)), nanos);
    }

    void pick(String pool, Pick pick) {
        picks.labelValues(pool, pick.picked() ? pick.endpoint().authority() : "",
                pick.outcome().name().toLowerCase(java.util.Locale.ROOT)).inc();
        if (pick.picked()) {
            traffic.picked(pool, pick.endpoint().authority());
        }
    }

    void queued(String pool) {
        picks.labelValues(pool, "", "queued").inc();
    }

    /** Exports the metrics the plugins of {@code chain} define, as {@code aimesh_filter_plugin_metric{plugin,metric}}. */
    void pluginMetrics(java.util.function.Supplier<java.util.List<io.aimesh.filter.wasm.PluginChain.Link>> chain) {
        io.prometheus.metrics.core.metrics.GaugeWithCallback.builder().name("aimesh_filter_plugin_metric")
                .help("The metrics proxy-wasm plugins define (counters and gauges), by plugin and the plugin's metric name;"
                        + " a counter's value is its count over the plugin's instances in this filter")
                .labelNames("plugin", "metric")
                .callback(callback -> {
                    for (io.aimesh.filter.wasm.PluginChain.Link link : chain.get()) {
                        if (link.plugin() != null) {
                            link.plugin().metrics().forEach((metric, value) -> callback.call(value, link.name(), metric));
                        }
                    }
                })
                .register(registry);
    }

    void plugin(String plugin, String outcome) {
        plugins.labelValues(plugin, outcome).inc();
    }

    void shadow(String model, String version, String outcome) {
        shadowRequests.labelValues(model, version, outcome).inc();
    }

    void shadowUsage(String model, String version, long input, long output) {
        shadowTokens.labelValues("input", model, version).inc(input);
        shadowTokens.labelValues("output", model, version).inc(output);
    }

    void shadowFinished(String model, String version, long nanos) {
        observe(shadowDuration.labelValues(model, version), nanos);
    }

    /** A settled request's cost at every account it was charged to, and what those accounts have left. */
    void spent(SpendLedger.Reservation reservation, String model, long costMicros) {
        java.util.Map<String, Long> remaining = new java.util.LinkedHashMap<>();
        for (SpendLedger.Left left : reservation.left()) {
            SpendRule rule = left.rule();
            String account = rule.level().label() + "\u0000" + rule.account();
            if (!remaining.containsKey(account)) {
                spend.labelValues(rule.level().label(), rule.account(), label(model)).inc(costMicros / 1e6);
            }
            remaining.merge(account, Math.max(0, left.leftMicros()), Math::min);
        }
        remaining.forEach((account, left) -> {
            int split = account.indexOf('\u0000');
            budgetRemaining.labelValues(account.substring(0, split), account.substring(split + 1)).set(left / 1e6);
        });
    }

    /** A soft threshold of a spend budget crossed. */
    public void budgetAlert(SpendLedger.Alert alert) {
        budgetAlerts.labelValues(alert.rule().level().label(), alert.rule().account(), alert.rule().period().label(),
                Integer.toString(alert.percent())).inc();
    }

    void reserved() {
        reservations.inc();
    }

    void settled() {
        reservations.dec();
    }

    private static void observe(DistributionDataPoint point, long nanos) {
        point.observe(nanos / 1e9);
    }

    private static String label(String value) {
        return value == null ? "" : value;
    }
}
