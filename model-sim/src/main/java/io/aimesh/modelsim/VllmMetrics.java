package io.aimesh.modelsim;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.DoubleSupplier;

/**
 * The vLLM-compatible metrics of one simulated server, in its own registry so that several servers
 * can share a JVM.
 *
 * <p>Names and buckets follow vLLM's {@code vllm/engine/metrics.py}, each series labelled
 * {@code model_name}: gauges {@code vllm:num_requests_running}, {@code vllm:num_requests_waiting},
 * {@code vllm:kv_cache_usage_perc} and its older alias {@code vllm:gpu_cache_usage_perc} (a fraction
 * in [0, 1], despite the name), read from the engine at scrape time; histograms
 * {@code vllm:time_to_first_token_seconds} and {@code vllm:e2e_request_latency_seconds}; counters
 * {@code vllm:prompt_tokens_total}, {@code vllm:generation_tokens_total},
 * {@code vllm:request_success_total}, and vLLM v1's prefix-cache counters in tokens,
 * {@code vllm:prefix_cache_queries_total} (prompt tokens looked up) and
 * {@code vllm:prefix_cache_hits_total} (those found cached), whose ratio is the hit rate. And
 * {@code vllm:lora_requests_info}, one series with no {@code model_name} whose labels
 * {@code running_lora_adapters} and {@code waiting_lora_adapters} (comma-separated) and
 * {@code max_lora} describe the adapters and whose value is the time of the scrape in seconds, as
 * vLLM sets it (readers take the series with the newest value). The Prometheus client keeps colons in names in the 0.0.4 text
 * format (checked by {@code VllmMetricsTest}).
 *
 * <p>Threading: the {@code on*} methods are called by the engine thread, {@link #scrape} by any.
 */
final class VllmMetrics {

    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private static final double[] TTFT_BUCKETS = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25,
        0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
    private static final double[] E2E_BUCKETS = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0,
        30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
    private static final String LABEL = "model_name";

    private final String modelName;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final DistributionDataPoint timeToFirstToken;
    private final DistributionDataPoint e2eLatency;
    private final CounterDataPoint promptTokens;
    private final CounterDataPoint generationTokens;
    private final CounterDataPoint requestSuccess;
    private final CounterDataPoint prefixQueries;
    private final CounterDataPoint prefixHits;

    VllmMetrics(String modelName) {
        this.modelName = modelName;
        timeToFirstToken = histogram("vllm:time_to_first_token_seconds",
                "Histogram of time to first token in seconds.", TTFT_BUCKETS);
        e2eLatency = histogram("vllm:e2e_request_latency_seconds",
                "Histogram of end to end request latency in seconds.", E2E_BUCKETS);
        promptTokens = counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.");
        generationTokens = counter("vllm:generation_tokens_total", "Number of generation tokens processed.");
        requestSuccess = counter("vllm:request_success_total", "Count of successfully processed requests.");
        prefixQueries = counter("vllm:prefix_cache_queries", "Prompt tokens looked up in the prefix cache.");
        prefixHits = counter("vllm:prefix_cache_hits", "Prompt tokens found in the prefix cache.");
    }

    /** Registers the gauges that read {@code engine}'s live state at every scrape; call once. */
    void registerGauges(InferenceEngine engine) {
        gauge("vllm:num_requests_running", "Number of requests in model execution batches.",
                engine::numRunning);
        gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", engine::numWaiting);
        gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", engine::kvCacheUsage);
        gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.",
                engine::kvCacheUsage);
        GaugeWithCallback.builder().name("vllm:lora_requests_info")
                .help("LoRA adapters of running and waiting requests; the value is the time it was read.")
                .labelNames("max_lora", "running_lora_adapters", "waiting_lora_adapters")
                .callback(callback -> callback.call(System.currentTimeMillis() / 1e3, Integer.toString(engine.maxLoras()),
                        engine.runningAdapters(), engine.waitingAdapters()))
                .register(registry);
    }

    void onPrefill(int tokens) {
        promptTokens.inc(tokens);
    }

    void onPrefixCache(int queriedTokens, int hitTokens) {
        prefixQueries.inc(queriedTokens);
        prefixHits.inc(hitTokens);
    }

    /** {@code vllm:prefix_cache_queries_total}: prompt tokens looked up. Any thread. */
    long prefixQueriedTokens() {
        return prefixQueries.getLongValue();
    }

    /** {@code vllm:prefix_cache_hits_total}: prompt tokens found. Any thread. */
    long prefixHitTokens() {
        return prefixHits.getLongValue();
    }

    void onGenerated(int tokens) {
        generationTokens.inc(tokens);
    }

    void onFirstToken(long nanos) {
        timeToFirstToken.observe(nanos / 1e9);
    }

    void onSuccess(long e2eNanos) {
        e2eLatency.observe(e2eNanos / 1e9);
        requestSuccess.inc();
    }

    /** Returns every metric in the Prometheus text format 0.0.4, see {@link #CONTENT_TYPE}. */
    byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen: writing to memory", e);
        }
        return out.toByteArray();
    }

    private DistributionDataPoint histogram(String name, String help, double[] buckets) {
        return Histogram.builder().name(name).help(help).labelNames(LABEL)
                .classicOnly().classicUpperBounds(buckets).withoutExemplars()
                .register(registry).labelValues(modelName);
    }

    private CounterDataPoint counter(String name, String help) {
        return Counter.builder().name(name).help(help).labelNames(LABEL).withoutExemplars()
                .register(registry).labelValues(modelName);
    }

    private void gauge(String name, String help, DoubleSupplier value) {
        GaugeWithCallback.builder().name(name).help(help).labelNames(LABEL)
                .callback(callback -> callback.call(value.getAsDouble(), modelName))
                .register(registry);
    }
}
