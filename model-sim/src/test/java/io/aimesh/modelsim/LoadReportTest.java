package io.aimesh.modelsim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The ORCA header's rate over the last two seconds, on a fixed clock, and its floors. */
class LoadReportTest {
    @Test
    void rate_countsArrivalsOfTheLastTwoSeconds_andUtilizationIsNeverZero() {
        AtomicLong now = new AtomicLong(1_000_000);
        try (InferenceEngine engine = new InferenceEngine(GpuProfile.DEFAULT, 1, 4, new KvCache(100, 1, false), new LoraSlots(1, 0), new VllmMetrics("m"), "load-test")) {
            LoadReport report = new LoadReport(engine, 4, now::get);

            assertThat(report.value()).isEqualTo("TEXT application_utilization=0.010, rps_fractional=0.001");
            for (int i = 0; i < 10; i++) {
                report.arrived();
                now.addAndGet(100); // 10 arrivals over one second
            }
            assertThat(report.value()).isEqualTo("TEXT application_utilization=0.010, rps_fractional=5.000");
            now.addAndGet(1_000); // the first arrival is now over two seconds old
            assertThat(report.value()).isEqualTo("TEXT application_utilization=0.010, rps_fractional=4.500");
            now.addAndGet(1_000);
            assertThat(report.value()).isEqualTo("TEXT application_utilization=0.010, rps_fractional=0.001");
        }
    }
}
