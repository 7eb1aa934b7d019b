package io.aimesh.bench.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OverheadReportTest {
    @Test
    void merge_replacesOnlyTheResultsSection() {
        String first = OverheadReport.merge(null, section("old"));
        String annotated = first + "\n## Analysis\n\nwritten by hand\n";

        String merged = OverheadReport.merge(annotated, section("new"));

        assertThat(merged).startsWith("# ai-filter overhead, end to end").contains("new").doesNotContain("old")
                .endsWith("## Analysis\n\nwritten by hand\n");
    }

    @Test
    void merge_appendsASectionToAFileWithoutOne() {
        assertThat(OverheadReport.merge("# Notes\n", section("new"))).isEqualTo("# Notes\n\n" + section("new"));
    }

    private static String section(String body) {
        return "<!-- filter-overhead:results -->\n" + body + "\n<!-- /filter-overhead:results -->\n";
    }
}
