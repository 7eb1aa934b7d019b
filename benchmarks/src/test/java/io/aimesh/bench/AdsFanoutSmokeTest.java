package io.aimesh.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The fan-out benchmark at smoke size: 20 clients, 2 changes, a real control plane process. */
class AdsFanoutSmokeTest {
    @ParameterizedTest(name = "delta={0}")
    @ValueSource(booleans = {false, true})
    void everyChange_reachesEveryClient(boolean delta) throws Exception {
        List<String> progress = new ArrayList<>();

        FanoutResult result = AdsFanoutBenchmark.run(FanoutOptions.of(20, 2, delta), progress::add);

        assertThat(result.changes()).hasSize(2).allSatisfy(nanos -> assertThat(nanos).isPositive());
        assertThat(result.allAcked().getTotalCount()).isEqualTo(2);
        assertThat(result.eachClient().getTotalCount()).as("one ACK per client per change").isEqualTo(40);
        assertThat(result.heapBeforeKb()).isPositive();
        assertThat(result.pushLatency().count()).as("the control plane saw the route ACKs too").isGreaterThanOrEqualTo(40);
        assertThat(progress).anyMatch(line -> line.startsWith("change 2/2: all 20 clients ACKed"));
        assertThat(FanoutReport.section(result, "smoke")).contains("| clients / changes / protocol | 20 / 2 / "
                + (delta ? "delta" : "sotw") + " |");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sotw", "delta"})
    void merge_replacesOnlyItsOwnProtocolSection(String protocol) {
        String other = protocol.equals("sotw") ? "delta" : "sotw";
        String first = FanoutReport.merge(null, protocol, section(protocol, "old"));
        String both = FanoutReport.merge(first, other, section(other, "kept"));

        String merged = FanoutReport.merge(both, protocol, section(protocol, "new"));

        assertThat(merged).startsWith("# ADS fan-out benchmark").contains("new").contains("kept").doesNotContain("old");
    }

    private static String section(String protocol, String body) {
        return "<!-- ads-fanout:" + protocol + " -->\n" + body + "\n<!-- /ads-fanout:" + protocol + " -->\n";
    }
}
