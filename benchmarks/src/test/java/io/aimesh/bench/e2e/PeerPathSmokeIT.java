package io.aimesh.bench.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The peer benchmark at smoke size against real Envoy: JSON and SSE, 1 KiB bodies, 20 req/s for 1 s
 * per path. The peers take part when they are built here (AI Gateway's extproc by
 * install-ai-gateway.sh from a fetched snapshot, LiteLLM by install-litellm.sh): a fresh clone has
 * neither, and then the smoke covers the harness on aimesh's own paths. Asserts that it works, not
 * how fast: every path answered every request, streamed or not, and the report has every table.
 */
class PeerPathSmokeIT {
    @Test
    void everyPath_answersEveryRequest_inBothModes() throws Exception {
        Path aigw = Path.of(System.getProperty("user.dir")).resolveSibling(".aimesh/peers/ai-gateway-v1.1.0/extproc");
        Path litellm = Path.of(System.getProperty("user.dir")).resolveSibling(".aimesh/litellm-1.108.7/bin/litellm");
        List<DataPath> paths = new ArrayList<>(List.of(DataPath.DIRECT, DataPath.PROXY, DataPath.ENVOY, DataPath.FILTER));
        if (Files.isExecutable(aigw)) {
            paths.add(DataPath.AIGW);
        }
        if (Files.isExecutable(litellm)) {
            paths.add(DataPath.LITELLM);
        }
        OverheadOptions smoke = OverheadOptions.smoke();
        OverheadOptions options = new OverheadOptions(List.of(20), List.of(1024), Duration.ofSeconds(1), 1, Duration.ZERO, paths,
                1, 2, smoke.tokenizer(), smoke.filterJvmArgs(), null, Files.isExecutable(aigw) ? aigw : null,
                Files.isExecutable(litellm) ? litellm : null, List.of(false, true), 2, Duration.ofMillis(500));

        PeerPathBenchmark.Result result = PeerPathBenchmark.run(options, line -> { });

        assertThat(result.saturations()).hasSize(paths.size() * 2).allSatisfy(saturation -> {
            assertThat(saturation.load().errors()).as(saturation.path().id()).isZero();
            assertThat(saturation.load().ok()).as(saturation.path().id()).isPositive();
        });
        assertThat(result.points()).allSatisfy(point -> {
            assertThat(point.result().errors()).as("%s errors: %s", point.result().path().id(),
                    point.result().stats().firstError()).isZero();
            assertThat(point.result().stats().ok()).as(point.result().path().id()).isEqualTo(20);
        });
        assertThat(result.points().stream().filter(p -> p.result().path() == DataPath.FILTER))
                .as("the filter path in both modes").hasSize(2)
                .allSatisfy(p -> assertThat(p.result().stats().marked()).as("answers through the filter").isEqualTo(20));
        assertThat(PeerReport.section(result, "smoke")).contains("| 1 KiB | JSON | filter |").contains("| 1 KiB | SSE | 20 |")
                .contains("### Throughput at saturation");
    }
}
