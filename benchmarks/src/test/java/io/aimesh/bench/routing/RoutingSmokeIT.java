package io.aimesh.bench.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A few seconds of the routing benchmark, on a fleet where one endpoint is a quarter as fast as
 * the others: it runs end to end (calibration, every stack, the report and the plot), and the
 * picker is not worse than round robin. The margin is loose on purpose (p99 of a few hundred
 * requests on a shared machine): round robin sends the slow endpoint a third of the requests,
 * which queue there, so on this fleet its TTFT tail is far above the picker's.
 */
class RoutingSmokeIT {
    @Test
    void shortRun_completes_andThePickerBeatsRoundRobinOnASkewedFleet() throws Exception {
        List<String> progress = new ArrayList<>();
        RoutingResult result = RoutingBenchmark.run(RoutingOptions.smoke(), progress::add);

        assertThat(result.capacity()).isPositive();
        assertThat(result.points()).hasSize(2);
        for (RoutingResult.Point point : result.points()) {
            assertThat(point.run().errors()).as("%s: %s", point.mode(), point.run().firstError()).isZero();
            assertThat(point.run().completed()).as(point.mode()).isEqualTo(point.run().sent()).isPositive();
        }
        RoutingResult.Point picker = result.point("picker", 0.7).orElseThrow();
        RoutingResult.Point roundRobin = result.point("round-robin", 0.7).orElseThrow();
        assertThat(RoutingReport.ms(picker.run().ttft(), 99)).as(String.join("\n", progress))
                .isLessThan(RoutingReport.ms(roundRobin.run().ttft(), 99));
        assertThat(RoutingReport.markdown(result, "smoke")).contains("| 70% |").contains("| picker |");
        assertThat(RoutingReport.svg(result)).startsWith("<svg").contains("picker").contains("round-robin");
    }

    @Test
    void sharedSystemPrompts_hitTheServersPrefixCaches_andTheOracleRoutesWithoutAProxy() throws Exception {
        RoutingOptions smoke = RoutingOptions.smoke();
        RoutingOptions options = new RoutingOptions(List.of(0.7), List.of("least-request", RoutingBenchmark.ORACLE),
                smoke.speeds(), smoke.maxSeqs(), java.time.Duration.ofSeconds(6), java.time.Duration.ofSeconds(3),
                smoke.metricsInterval(), 1, null, Workload.SYSTEM_PROMPTS, 4);

        RoutingResult result = RoutingBenchmark.run(options, progress -> { });

        for (RoutingResult.Point point : result.points()) {
            assertThat(point.run().errors()).as("%s: %s", point.mode(), point.run().firstError()).isZero();
            // 6 system prompts of 1,200 tokens before ~160 of the user's own: most of each prompt is cached.
            assertThat(point.cacheHitRate()).as(point.mode()).isGreaterThan(0.5);
        }
        assertThat(RoutingReport.markdown(result, "smoke")).contains("| oracle |").contains("system-prompts");
    }
}
