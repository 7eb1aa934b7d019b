package io.aimesh.xds.server;

import io.aimesh.xds.snapshot.ResourceType;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;

/**
 * The control plane's Prometheus metrics. One registry per control plane (not the global
 * default), so several control planes can live in one JVM, as they do in tests. Thread-safe.
 */
public final class XdsMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter pushes = Counter.builder().name("aimesh_xds_pushes_total")
            .help("xDS responses sent, by resource type").labelNames("type").register(registry);
    private final Counter acks = Counter.builder().name("aimesh_xds_acks_total")
            .help("xDS responses acknowledged by clients, by resource type").labelNames("type").register(registry);
    private final Counter nacks = Counter.builder().name("aimesh_xds_nacks_total")
            .help("xDS responses rejected by clients (NACK), by resource type").labelNames("type").register(registry);
    private final Histogram pushLatency = Histogram.builder().name("aimesh_xds_push_latency_seconds")
            .help("Time from a config change being published to a client acknowledging it, by resource type")
            .labelNames("type").classicOnly()
            .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
            .register(registry);
    private final Gauge connectedStreams = Gauge.builder().name("aimesh_xds_connected_streams")
            .help("Open ADS streams (state-of-the-world and delta)").register(registry);
    private final Counter reloads = Counter.builder().name("aimesh_policy_reloads_total")
            .help("Policy directory reloads, by outcome (applied, unchanged, rejected)").labelNames("outcome").register(registry);
    private final Counter outOfScope = Counter.builder().name("aimesh_xds_out_of_scope_requests_total")
            .help("Resource names clients asked for that only another config scope has, by resource type")
            .labelNames("type").register(registry);
    private final Counter scopeDenials = Counter.builder().name("aimesh_xds_scope_denials_total")
            .help("ADS streams refused because the node's claimed scope is not the one its client certificate proves")
            .register(registry);
    private final Counter refreshFailures = Counter.builder().name("aimesh_endpoint_refresh_failures_total")
            .help("Recompiles of the served policies that failed (an endpoint name stopped resolving); the last "
                    + "snapshot keeps serving").register(registry);
    private final Counter snapshots = Counter.builder().name("aimesh_xds_snapshots_published_total")
            .help("Config snapshots published to clients").register(registry);

    public PrometheusRegistry registry() {
        return registry;
    }

    void pushed(ResourceType type) {
        pushes.labelValues(label(type)).inc();
    }

    void acked(ResourceType type, long publishedNanos) {
        acks.labelValues(label(type)).inc();
        if (publishedNanos != 0) {
            pushLatency.labelValues(label(type)).observe((System.nanoTime() - publishedNanos) / 1e9);
        }
    }

    void nacked(ResourceType type) {
        nacks.labelValues(label(type)).inc();
    }

    void outOfScope(ResourceType type) {
        outOfScope.labelValues(label(type)).inc();
    }

    void scopeDenied() {
        scopeDenials.inc();
    }

    void streamOpened() {
        connectedStreams.inc();
    }

    void streamClosed() {
        connectedStreams.dec();
    }

    void snapshotPublished() {
        snapshots.inc();
    }

    /** Records a recompile of the served policies that failed. */
    public void refreshFailed() {
        refreshFailures.inc();
    }

    /** Recompiles of the served policies that failed, so far. */
    public long refreshFailures() {
        return (long) refreshFailures.get();
    }

    /** Records a policy reload outcome: {@code applied}, {@code unchanged} or {@code rejected}. */
    public void reload(String outcome) {
        reloads.labelValues(outcome).inc();
    }

    static String label(ResourceType type) {
        return type.name().toLowerCase(Locale.ROOT);
    }
}
