package io.aimesh.bench.coalesce;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The coalescing benchmark at smoke size against real Envoy: both routes run and report. */
class CoalescingSmokeIT {
    @Test
    void bothRoutes_runAndReport() throws Exception {
        List<CoalescingBenchmark.Result> results = CoalescingBenchmark.run(8, 1);

        assertThat(results).extracting(CoalescingBenchmark.Result::mode).containsExactly("uncoalesced", "coalesced");
        assertThat(results).allSatisfy(result -> assertThat(result.perSecond()).isPositive());
        assertThat(CoalescingBenchmark.markdown(results, 8, 1)).contains("| coalesced |");
    }
}
