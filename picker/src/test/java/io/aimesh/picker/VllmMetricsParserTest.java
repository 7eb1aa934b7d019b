package io.aimesh.picker;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VllmMetricsParserTest {

    @Test
    void parse_readsTheGaugesOfAVllmServer() throws IOException {
        VllmMetrics metrics = VllmMetricsParser.parse(resource("vllm-metrics.txt"));

        assertThat(metrics).isEqualTo(new VllmMetrics(2, 3, 0.4375, Set.of("sql-lora", "tweet-lora"),
                Set.of("sql-lora"), 2, List.of()));
    }

    @Test
    void parse_sumsRequestCountsAcrossLabelSets() {
        VllmMetrics metrics = VllmMetricsParser.parse("""
                vllm:num_requests_waiting{model_name="base"} 1.0
                vllm:num_requests_waiting{model_name="sql-lora"} 2.0
                vllm:num_requests_running{engine="0",model_name="base"} 4
                vllm:num_requests_running{engine="1",model_name="base"} 0
                """);

        assertThat(metrics.waiting()).isEqualTo(3);
        assertThat(metrics.running()).isEqualTo(4);
    }

    @Test
    void parse_takesTheFullestKvCacheAcrossLabelSets() {
        VllmMetrics metrics = VllmMetricsParser.parse("""
                vllm:kv_cache_usage_perc{engine="0"} 0.2
                vllm:kv_cache_usage_perc{engine="1"} 0.6
                vllm:kv_cache_usage_perc{engine="2"} 0.4
                """);

        assertThat(metrics.kvCacheUsage()).isEqualTo(0.6);
    }

    @Test
    void parse_fallsBackToGpuCacheUsageWithoutKvCacheUsage() {
        assertThat(VllmMetricsParser.parse("vllm:gpu_cache_usage_perc{model_name=\"m\"} 0.25\n").kvCacheUsage())
                .isEqualTo(0.25);
    }

    @Test
    void parse_prefersKvCacheUsageOverGpuCacheUsage() {
        VllmMetrics metrics = VllmMetricsParser.parse("""
                vllm:gpu_cache_usage_perc 0.9
                vllm:kv_cache_usage_perc 0.1
                """);

        assertThat(metrics.kvCacheUsage()).isEqualTo(0.1);
    }

    @Test
    void parse_takesTheLoraSeriesWithTheNewestValue() {
        VllmMetrics metrics = VllmMetricsParser.parse("""
                vllm:lora_requests_info{max_lora="4",running_lora_adapters="new-a, new-b",waiting_lora_adapters="w"} 200
                vllm:lora_requests_info{max_lora="1",running_lora_adapters="old",waiting_lora_adapters=""} 100
                """);

        assertThat(metrics.runningLoras()).containsExactlyInAnyOrder("new-a", "new-b");
        assertThat(metrics.waitingLoras()).containsExactly("w");
        assertThat(metrics.maxLoras()).isEqualTo(4);
    }

    @Test
    void parse_unescapesLabelValues() {
        VllmMetrics metrics = VllmMetricsParser.parse("""
                vllm:num_requests_waiting{model_name="a \\"quoted\\" name, with } and \\\\ and \\n"} 5
                vllm:lora_requests_info{running_lora_adapters="q\\"uote,back\\\\slash,new\\nline",max_lora="3"} 1
                """);

        assertThat(metrics.waiting()).isEqualTo(5);
        assertThat(metrics.runningLoras()).containsExactlyInAnyOrder("q\"uote", "back\\slash", "new\nline");
        assertThat(metrics.problems()).isEmpty();
    }

    @Test
    void parse_acceptsCrlfLineEnds() {
        VllmMetrics metrics = VllmMetricsParser.parse(
                "# TYPE vllm:num_requests_waiting gauge\r\nvllm:num_requests_waiting 2\r\nvllm:kv_cache_usage_perc 0.5\r\n");

        assertThat(metrics.waiting()).isEqualTo(2);
        assertThat(metrics.kvCacheUsage()).isEqualTo(0.5);
        assertThat(metrics.problems()).isEmpty();
    }

    @Test
    void parse_acceptsTimestampsTabsAndATrailingComma() {
        VllmMetrics metrics = VllmMetricsParser.parse(
                "  vllm:num_requests_waiting\t{ model_name = \"m\" , }\t4  1700000000000 \n"
                        + "vllm:num_requests_running{} 1e0 -5\n");

        assertThat(metrics.waiting()).isEqualTo(4);
        assertThat(metrics.running()).isEqualTo(1);
        assertThat(metrics.problems()).isEmpty();
    }

    @Test
    void parse_skipsNanSamplesWithoutAProblem() {
        VllmMetrics metrics = VllmMetricsParser.parse("""
                vllm:num_requests_waiting{model_name="a"} NaN
                vllm:num_requests_waiting{model_name="b"} 2
                vllm:kv_cache_usage_perc nan
                """);

        assertThat(metrics.waiting()).isEqualTo(2);
        assertThat(metrics.kvCacheUsage()).isNaN();
        assertThat(metrics.problems()).isEmpty();
    }

    @Test
    void parse_reportsAndSkipsValuesOutOfRange() {
        VllmMetrics metrics = VllmMetricsParser.parse("""
                vllm:num_requests_waiting +Inf
                vllm:num_requests_running -1
                vllm:kv_cache_usage_perc 85
                vllm:lora_requests_info{running_lora_adapters="x"} -Inf
                """);

        assertThat(metrics).isEqualTo(new VllmMetrics(Double.NaN, Double.NaN, Double.NaN, Set.of(), Set.of(), 0, List.of(
                "line 1, column 27: vllm:num_requests_waiting: Infinity (expected: a finite count >= 0)",
                "line 2, column 27: vllm:num_requests_running: -1.0 (expected: a finite count >= 0)",
                "line 3, column 26: vllm:kv_cache_usage_perc: 85.0 (expected: a fraction from 0 to 1)",
                "line 4, column 52: vllm:lora_requests_info: -Infinity (expected: a finite timestamp)")));
    }

    @Test
    void parse_reportsMissingMetricsAsUnknown() {
        VllmMetrics metrics = VllmMetricsParser.parse("""
                # HELP process_cpu_seconds_total Total user and system CPU time.
                process_cpu_seconds_total 12.5
                vllm:num_requests_waiting_total 9
                vllm:num_requests_waitingX{a="b"} 9
                vllm:kv_cache_usage_perc_bucket{le="0.5"} 0.3
                """);

        assertThat(metrics).isEqualTo(VllmMetrics.NONE);
    }

    @Test
    void parse_collectsEveryProblemWithItsLineAndColumn() {
        VllmMetrics metrics = VllmMetricsParser.parse("""
                vllm:num_requests_waiting{model_name="m"} abc
                vllm:num_requests_running{model_name="m} 1
                vllm:kv_cache_usage_perc 0.5 12x
                vllm:num_requests_waiting{model_name="a\\q"} 1
                vllm:num_requests_waiting
                vllm:num_requests_waiting{model_name "m"} 1
                vllm:num_requests_waiting{model_name="ok"} 7
                vllm:lora_requests_info{max_lora="two"} 1
                vllm:num_requests_running 1d
                """);

        assertThat(metrics.waiting()).isEqualTo(7);
        assertThat(metrics.problems()).containsExactly(
                "line 1, column 43: malformed value \"abc\"",
                "line 2, column 38: unterminated label value",
                "line 3, column 30: expected an integer timestamp or the end of the line",
                "line 4, column 40: invalid escape \\q in a label value (expected: \\\\, \\\" or \\n)",
                "line 5, column 26: vllm:num_requests_waiting: missing value",
                "line 6, column 38: vllm:num_requests_waiting: expected '=' after label model_name",
                "line 9, column 27: malformed value \"1d\"",
                "line 8: vllm:lora_requests_info: max_lora \"two\" (expected: an integer >= 0)");
    }

    @Test
    void parse_listsAtMostMaxProblemsAndCountsTheRest() {
        VllmMetrics metrics = VllmMetricsParser.parse("vllm:num_requests_waiting x\n".repeat(40));

        assertThat(metrics.problems()).hasSize(VllmMetricsParser.MAX_PROBLEMS + 1)
                .endsWith("and " + (40 - VllmMetricsParser.MAX_PROBLEMS) + " more problems");
    }

    @Test
    void parse_readsWhatThePrometheusJavaClientWrites() throws IOException {
        SplittableRandom random = new SplittableRandom(11);
        PrometheusRegistry registry = new PrometheusRegistry();
        Gauge waiting = Gauge.builder().name("vllm:num_requests_waiting").help("waiting").labelNames("model_name")
                .register(registry);
        Gauge kv = Gauge.builder().name("vllm:kv_cache_usage_perc").help("kv").labelNames("model_name")
                .register(registry);
        Map<String, Double> waitingByModel = new HashMap<>();
        Map<String, Double> kvByModel = new HashMap<>();
        for (int i = 0; i < 30; i++) {
            String model = randomLabel(random);
            double count = random.nextInt(50);
            double usage = random.nextInt(1_000) / 1_000.0;
            waiting.labelValues(model).set(count);
            kv.labelValues(model).set(usage);
            waitingByModel.put(model, count);
            kvByModel.put(model, usage);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape());

        VllmMetrics metrics = VllmMetricsParser.parse(out.toString(UTF_8));

        assertThat(metrics.problems()).isEmpty();
        assertThat(metrics.waiting()).isEqualTo(waitingByModel.values().stream().mapToDouble(Double::doubleValue).sum());
        assertThat(metrics.kvCacheUsage()).isEqualTo(kvByModel.values().stream().mapToDouble(Double::doubleValue).max()
                .orElseThrow());
    }

    private static String randomLabel(SplittableRandom random) {
        String alphabet = "ab\"\\\n},={ é✓";
        StringBuilder label = new StringBuilder("m");
        int length = random.nextInt(12);
        for (int i = 0; i < length; i++) {
            label.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return label.toString();
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = VllmMetricsParserTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), UTF_8);
        }
    }
}
