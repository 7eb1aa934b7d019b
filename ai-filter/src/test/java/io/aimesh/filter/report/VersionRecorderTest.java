package io.aimesh.filter.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.LatencyBuckets;
import io.aimesh.filter.api.LateThreshold;
import io.aimesh.filter.api.VersionSample;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class VersionRecorderTest {

    @Test
    void outcomesAreSortedIntoErrorsOverloadsAndLatencies() {
        VersionRecorder recorder = new VersionRecorder();
        recorder.ended("m", "v2", 200, 5_000_000, 1_000_000, 40);
        recorder.ended("m", "v2", 503, 1_000_000, -1, -1);
        recorder.ended("m", "v2", 0, -1, -1, -1); // reset
        recorder.ended("m", "v2", 429, 2_000_000, -1, -1);
        recorder.shed("m", "v2");

        List<VersionSample> samples = recorder.drain();

        assertThat(samples).hasSize(1);
        VersionSample v2 = samples.get(0);
        assertThat(v2.getRequests()).isEqualTo(4);
        assertThat(v2.getErrors()).isEqualTo(2);
        assertThat(v2.getOverloads()).isEqualTo(2);
        assertThat(v2.getOutputTokens()).isEqualTo(40);
        assertThat(v2.getOutputMeasured()).isEqualTo(1);
        assertThat(v2.getTtft().getCountsMap()).containsEntry(LatencyBuckets.index(5_000), 1L).hasSize(3);
        assertThat(v2.getTpot().getCountsMap()).containsEntry(LatencyBuckets.index(1_000), 1L);
        assertThat(recorder.drain()).isEmpty();
    }

    @Test
    void drainsRacingRecords_loseNothing_andCountNothingTwice() throws Exception {
        VersionRecorder recorder = new VersionRecorder();
        int threads = 4;
        int each = 50_000;
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    recorder.ended("m", "v1", i % 10 == 0 ? 500 : 200, 1_000_000 + i, -1, 1);
                }
                done.countDown();
            });
            thread.start();
        }
        List<VersionSample> drained = new ArrayList<>();
        while (done.getCount() > 0) {
            drained.addAll(recorder.drain());
        }
        drained.addAll(recorder.drain());

        long requests = drained.stream().mapToLong(VersionSample::getRequests).sum();
        long errors = drained.stream().mapToLong(VersionSample::getErrors).sum();
        long ttft = drained.stream().flatMap(s -> s.getTtft().getCountsMap().values().stream()).mapToLong(Long::longValue).sum();
        assertThat(requests).isEqualTo((long) threads * each);
        assertThat(errors).isEqualTo((long) threads * each / 10);
        assertThat(ttft).isEqualTo((long) threads * each);
    }

    @Test
    void aLateRequest_isCountedInTtftAtOnce_andReportedAsBadNews() {
        VersionRecorder recorder = new VersionRecorder();
        java.util.concurrent.atomic.AtomicInteger nudges = new java.util.concurrent.atomic.AtomicInteger();
        recorder.onBadNews(nudges::incrementAndGet);
        recorder.lateThresholds(List.of(LateThreshold.newBuilder().setModel("m").setVersion("v2").setTtftMicros(150_000).build()));

        assertThat(recorder.lateAfterMicros("m", "v2")).isEqualTo(150_000);
        assertThat(recorder.lateAfterMicros("m", "v1")).isZero();
        recorder.late("m", "v2", 150_001);
        recorder.ended("m", "v2", 200, -1, -1, 10); // its end: the caller passes no ttft

        VersionSample v2 = recorder.drain().get(0);
        assertThat(v2.getLate()).isEqualTo(1);
        assertThat(v2.getRequests()).isEqualTo(1);
        assertThat(v2.getTtft().getCountsMap()).containsExactly(java.util.Map.entry(LatencyBuckets.index(150_001), 1L));
        assertThat(nudges.get()).isEqualTo(1);
        recorder.lateThresholds(List.of());
        assertThat(recorder.lateAfterMicros("m", "v2")).as("each ack replaces the thresholds").isZero();
    }
}
