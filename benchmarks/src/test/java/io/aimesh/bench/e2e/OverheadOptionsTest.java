package io.aimesh.bench.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class OverheadOptionsTest {
    @Test
    void parse_overridesTheDefaults() {
        OverheadOptions options = OverheadOptions.parse(List.of("--rates", "100, 2000", "--body-bytes", "4096",
                "--duration", "1.5", "--paths", "envoy,filter", "--filter-jvm-args", "-Xmx2g -XX:+UseParallelGC",
                "--report", "out.md"));

        assertThat(options.rates()).containsExactly(100, 2000);
        assertThat(options.warmupRate()).as("capped").isEqualTo(OverheadOptions.MAX_WARMUP_RATE);
        assertThat(options.bodyBytes()).containsExactly(4096);
        assertThat(options.duration()).isEqualTo(Duration.ofMillis(1500));
        assertThat(options.paths()).containsExactly(DataPath.ENVOY, DataPath.FILTER);
        assertThat(options.filterJvmArgs()).containsExactly("-Xmx2g", "-XX:+UseParallelGC");
        assertThat(options.report()).isEqualTo(Path.of("out.md"));
        assertThat(options.rounds()).isEqualTo(OverheadOptions.defaults().rounds());
    }

    @Test
    void parse_namesEveryBadArgumentAtOnce() {
        assertThatThrownBy(() -> OverheadOptions.parse(List.of("--rates", "fast", "--paths", "istio", "--colour", "red")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--rates fast:")
                .hasMessageContaining("--paths istio: path: istio (expected: direct, proxy, envoy, extproc, filter, aigw or litellm)")
                .hasMessageContaining("--colour: unknown option")
                .hasMessageContaining("options (defaults in brackets)");
    }

    @Test
    void peerPaths_needTheirPeers_andModesAreBooleans() {
        assertThatThrownBy(() -> OverheadOptions.parse(List.of("--paths", "aigw,litellm", "--streams", "sse")))
                .hasMessageContaining("--streams sse: expected true or false");
        assertThatThrownBy(() -> OverheadOptions.parse(List.of("--paths", "aigw,litellm")))
                .hasMessageContaining("paths: aigw needs --aigw-extproc")
                .hasMessageContaining("paths: litellm needs --litellm");
        OverheadOptions options = OverheadOptions.parse(List.of("--paths", "proxy,aigw", "--aigw-extproc", "/x/extproc",
                "--streams", "true", "--saturation-clients", "8"));
        org.assertj.core.api.Assertions.assertThat(options.aigwExtproc()).isEqualTo(java.nio.file.Path.of("/x/extproc"));
        org.assertj.core.api.Assertions.assertThat(options.streams()).containsExactly(true);
        org.assertj.core.api.Assertions.assertThat(options.saturationClients()).isEqualTo(8);
    }

    @Test
    void parse_refusesValuesOutOfRange() {
        assertThatThrownBy(() -> OverheadOptions.parse(List.of("--rates", "0", "--rounds", "0")))
                .hasMessageContaining("rates: [0] (expected: one or more, each >= 1)")
                .hasMessageContaining("rounds: 0 (expected: >= 1)");
    }
}
