package io.aimesh.picker;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the metrics parser: whatever the bytes, it never throws, what it returns is in range (the
 * record's own checks would throw otherwise), its problem list stays bounded, and CRLF line ends read
 * the same as LF. In CI this replays the seed corpus in {@code VllmMetricsParserFuzzTestInputs};
 * {@code JAZZER_FUZZ=1 mvn -pl ai-filter test -Dtest=VllmMetricsParserFuzzTest} fuzzes for real.
 */
class VllmMetricsParserFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void parse_neverThrows_andReadsCrlfAsLf(byte[] input) {
        String text = new String(input, UTF_8);

        VllmMetrics metrics = VllmMetricsParser.parse(text);

        assertThat(metrics.problems()).hasSizeLessThanOrEqualTo(VllmMetricsParser.MAX_PROBLEMS + 1);
        if (!Double.isNaN(metrics.kvCacheUsage())) {
            assertThat(metrics.kvCacheUsage()).isBetween(0.0, 1.0);
        }
        if (text.indexOf('\r') < 0) {
            assertThat(VllmMetricsParser.parse(text.replace("\n", "\r\n"))).isEqualTo(metrics);
        }
    }
}
