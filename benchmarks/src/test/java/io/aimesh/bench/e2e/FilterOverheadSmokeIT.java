package io.aimesh.bench.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The filter overhead benchmark at smoke size against real Envoy: 50 req/s of 1 KiB bodies for
 * 2 s per path. Asserts that it works, not how fast: every request answered 200 on every path,
 * and the filter path's answers, only theirs, went through the filter.
 */
class FilterOverheadSmokeIT {
    @Test
    void everyPath_answersEveryRequest_andOnlyTheFilterPathSeesTheFilter() throws Exception {
        List<String> progress = new ArrayList<>();

        OverheadResult result = FilterOverheadBenchmark.run(OverheadOptions.smoke(), progress::add);

        assertThat(result.points()).hasSize(4);
        assertThat(result.points()).allSatisfy(point -> {
            assertThat(point.errors()).as("%s errors: %s", point.path().id(), point.stats().firstError()).isZero();
            assertThat(point.scheduled()).as(point.path().id()).isEqualTo(100);
            assertThat(point.stats().ok()).as(point.path().id()).isEqualTo(100);
            assertThat(point.rounds()).isEqualTo(2);
        });
        PointResult filter = result.point(DataPath.FILTER, 50, 1024).orElseThrow();
        assertThat(filter.stats().marked()).as("filter responses with " + FilterOverheadBenchmark.FILTER_HEADER).isEqualTo(100);
        assertThat(filter.extProcCpuMicrosPerRequest()).as("the filter process worked").isPositive();
        assertThat(result.point(DataPath.ENVOY, 50, 1024).orElseThrow().stats().marked()).isZero();
        PointResult noop = result.point(DataPath.EXTPROC, 50, 1024).orElseThrow();
        assertThat(noop.stats().marked()).as("the no-op ext_proc server adds no headers").isZero();
        assertThat(noop.extProcCpuMicrosPerRequest()).as("the no-op server was in the path").isPositive();
        assertThat(result.point(DataPath.DIRECT, 50, 1024).orElseThrow().stats().marked()).isZero();
        assertThat(OverheadReport.section(result, "smoke"))
                .contains("| 1 KiB | 50 | filter |")
                .contains("| 1 KiB | 50 | filter − envoy |")
                .contains("| 1 KiB | 50 | extproc − envoy |")
                .contains("| 1 KiB | 50 | filter − extproc |");
    }
}
