package io.aimesh.modelsim;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class VllmMetricsTest {

    @Test
    void scrape_printsVllmNamesWithColonsAndModelLabel() {
        VllmMetrics metrics = new VllmMetrics("m");
        try (InferenceEngine engine = new InferenceEngine(GpuProfile.DEFAULT, 1, 1, new KvCache(100, 1, false), new LoraSlots(1, 0), metrics, "metrics-test")) {
            metrics.registerGauges(engine);
            metrics.onPrefill(12);
            metrics.onGenerated(3);
            metrics.onFirstToken(Duration.ofMillis(30).toNanos());
            metrics.onSuccess(Duration.ofMillis(700).toNanos());

            assertThat(new String(metrics.scrape(), UTF_8)).contains(
                    "vllm:num_requests_running{model_name=\"m\"} 0.0\n",
                    "vllm:num_requests_waiting{model_name=\"m\"} 0.0\n",
                    "vllm:kv_cache_usage_perc{model_name=\"m\"} 0.0\n",
                    "vllm:gpu_cache_usage_perc{model_name=\"m\"} 0.0\n",
                    "# TYPE vllm:time_to_first_token_seconds histogram\n",
                    "vllm:time_to_first_token_seconds_bucket{model_name=\"m\",le=\"0.04\"} 1\n",
                    "vllm:time_to_first_token_seconds_bucket{model_name=\"m\",le=\"0.02\"} 0\n",
                    "vllm:e2e_request_latency_seconds_bucket{model_name=\"m\",le=\"0.8\"} 1\n",
                    "vllm:e2e_request_latency_seconds_count{model_name=\"m\"} 1\n",
                    "vllm:prompt_tokens_total{model_name=\"m\"} 12.0\n",
                    "vllm:generation_tokens_total{model_name=\"m\"} 3.0\n",
                    "vllm:request_success_total{model_name=\"m\"} 1.0\n");
        }
    }

    @Test
    void gauges_readLiveEngineStateAtScrapeTime() throws InterruptedException {
        VllmMetrics metrics = new VllmMetrics("m");
        try (InferenceEngine engine = new InferenceEngine(GpuProfile.DEFAULT, 4, 4, new KvCache(100, 1, false), new LoraSlots(1, 0), metrics, "metrics-test")) {
            metrics.registerGauges(engine);
            engine.start();
            Sequence running = engine.submit(20, 70, PromptBlocks.NONE, null);
            Sequence waiting = engine.submit(10, 30, PromptBlocks.NONE, null); // does not fit beside the first: 90 + 40 > 100

            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(1))
                    .until(() -> new String(metrics.scrape(), UTF_8).contains(
                            "vllm:num_requests_running{model_name=\"m\"} 1.0"));
            assertThat(new String(metrics.scrape(), UTF_8)).contains(
                    "vllm:num_requests_waiting{model_name=\"m\"} 1.0",
                    "vllm:kv_cache_usage_perc{model_name=\"m\"} 0.9");

            running.awaitTermination();
            waiting.awaitTermination();
            assertThat(new String(metrics.scrape(), UTF_8)).contains(
                    "vllm:num_requests_running{model_name=\"m\"} 0.0",
                    "vllm:kv_cache_usage_perc{model_name=\"m\"} 0.0",
                    "vllm:generation_tokens_total{model_name=\"m\"} 100.0",
                    "vllm:prompt_tokens_total{model_name=\"m\"} 30.0",
                    "vllm:request_success_total{model_name=\"m\"} 2.0");
        }
    }
}
