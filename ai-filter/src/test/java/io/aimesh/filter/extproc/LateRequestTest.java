package io.aimesh.filter.extproc;

import static io.aimesh.filter.extproc.ProcessorHarness.chat;
import static io.aimesh.filter.extproc.ProcessorHarness.chatHeaders;
import static io.aimesh.filter.extproc.ProcessorHarness.responseBody;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.LatencyBuckets;
import io.aimesh.filter.api.LateThreshold;
import io.aimesh.filter.api.Model;
import io.aimesh.filter.api.Settings;
import io.aimesh.filter.api.Version;
import io.aimesh.filter.api.VersionOverride;
import io.aimesh.filter.api.VersionSample;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A canary request whose first byte is overdue is counted late at once, and only once. */
class LateRequestTest {
    private static final Model ROUTED = Model.newBuilder().setName("llama").setTokenizer("approximate")
            .addVersions(Version.newBuilder().setName("v1").setPool("p1").setWeight(100))
            .addVersions(Version.newBuilder().setName("v2").setPool("p2").setWeight(0))
            .addOverrides(VersionOverride.newBuilder().setHeader("x-aimesh-version").setValue("v2").setVersion("v2"))
            .build();
    private final ProcessorHarness filter = ProcessorHarness.of(FilterConfig.newBuilder().addModels(ROUTED)
            .addTenants(ProcessorHarness.acme(100_000)).setSettings(Settings.newBuilder().addClientHeaders("x-aimesh-version"))
            .build());
    private final List<VersionSample> drained = new ArrayList<>();

    @AfterEach
    void close() {
        filter.close();
    }

    private VersionSample v2() {
        drained.addAll(filter.context.versions().drain());
        VersionSample.Builder sum = VersionSample.newBuilder();
        for (VersionSample sample : drained) {
            if (sample.getVersion().equals("v2")) {
                sum.setRequests(sum.getRequests() + sample.getRequests()).setLate(sum.getLate() + sample.getLate());
                sample.getTtft().getCountsMap().forEach((bucket, count) -> sum.getTtftBuilder().putCounts(bucket,
                        sum.getTtft().getCountsOrDefault(bucket, 0) + count));
            }
        }
        return sum.build();
    }

    @Test
    void aRequestPastTheThreshold_isCountedLate_andItsEndDoesNotCountItsTtftAgain() {
        filter.context.versions().lateThresholds(List.of(
                LateThreshold.newBuilder().setModel("llama").setVersion("v2").setTtftMicros(20_000).build()));
        ProcessorHarness.Stream stream = filter.open();
        stream.request(chatHeaders("x-aimesh-version", "v2"), chat("\"max_tokens\":4,"));

        await().atMost(Duration.ofSeconds(5)).until(() -> v2().getLate() == 1);
        VersionSample late = v2();
        assertThat(late.getRequests()).as("still in flight").isZero();
        assertThat(late.getTtft().getCountsMap()).hasSize(1);
        assertThat(late.getTtft().getCountsMap().keySet().iterator().next()).isGreaterThan(LatencyBuckets.index(20_000));

        stream.send(responseBody(200, "{\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":4,\"total_tokens\":8}}", true));

        VersionSample ended = v2();
        assertThat(ended.getRequests()).isEqualTo(1);
        assertThat(ended.getLate()).isEqualTo(1);
        assertThat(ended.getTtft().getCountsMap().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(1);
    }

    @Test
    void aRequestAnsweredInTime_isNotLate() {
        filter.context.versions().lateThresholds(List.of(
                LateThreshold.newBuilder().setModel("llama").setVersion("v2").setTtftMicros(2_000_000).build()));
        ProcessorHarness.Stream canary = filter.open();
        canary.request(chatHeaders("x-aimesh-version", "v2"), chat("\"max_tokens\":4,"));
        canary.send(responseBody(200, "{\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":4,\"total_tokens\":8}}", true));

        VersionSample v2 = v2();
        assertThat(v2.getLate()).isZero();
        assertThat(v2.getRequests()).isEqualTo(1);
        assertThat(v2.getTtft().getCountsMap().keySet()).allSatisfy(b -> assertThat(b).isLessThan(LatencyBuckets.index(2_000_000)));
    }
}
