package io.aimesh.filter.extproc;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.Model;
import io.aimesh.filter.api.Pool;
import io.aimesh.filter.api.Scorers;
import io.aimesh.filter.api.Version;
import io.aimesh.filter.config.RuntimeConfig.MirrorInfo;
import io.aimesh.filter.config.RuntimeConfig.VersionInfo;
import io.aimesh.picker.Endpoint;
import io.aimesh.picker.InFlight;
import io.aimesh.picker.PoolPicker;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** When a shadow copy goes, and when it is shed rather than compete with real requests. */
class ShadowSenderTest {
    private static final VersionInfo V2 = new VersionInfo("v2", "gpu", 0, Set.of());
    private static final ShadowSender.Copy COPY = new ShadowSender.Copy("llama", "/v1/chat/completions",
            "{\"model\":\"llama\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8), "acme", "hi");

    private static MirrorInfo mirror(int maxInFlight, List<String> endpoints) {
        return new MirrorInfo(V2, 100, maxInFlight, endpoints, Duration.ofSeconds(30));
    }

    @Test
    void aPickerPoolWithARequestWaiting_orNoEndpointWithRoom_shedsTheCopy() {
        Pool gpu = Pool.newBuilder().setName("gpu").addEndpoints("127.0.0.1:9").setMetricsPath("/metrics")
                .setMetricsIntervalMs(60_000).setScorers(Scorers.newBuilder().setQueue(1)).setMaxQueue(8)
                .setMaxKvCachePercent(90).setMaxInFlight(1).build();
        try (ProcessorHarness filter = ProcessorHarness.of(FilterConfig.newBuilder().addPools(gpu)
                .addModels(Model.newBuilder().setName("llama").setTokenizer("approximate")
                        .addVersions(Version.newBuilder().setName("v2").setPool("gpu").setWeight(1))).build())) {
            ShadowSender shadows = new ShadowSender(new FilterMetrics());
            PoolPicker picker = filter.context.pickers().get("gpu");

            assertThat(shadows.send(COPY, mirror(8, List.of()), picker, 1)).isEqualTo(ShadowSender.Result.SHED_SATURATED);
            InFlight real = picker.started(new Endpoint("127.0.0.1", 9)); // the one slot, taken by a real request
            assertThat(shadows.send(COPY, mirror(8, List.of()), picker, 0)).isEqualTo(ShadowSender.Result.SHED_SATURATED);
            real.finished();
            assertThat(shadows.send(COPY, mirror(8, List.of()), null, 0)).as("nowhere to send").isEqualTo(
                    ShadowSender.Result.SHED_SATURATED);
        }
    }

    @Test
    void copiesBeyondMaxInFlight_areShed_untilOneEnds() throws Exception {
        // A server that takes the connection and never answers: the first copy stays out.
        try (ServerSocket silent = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            ShadowSender shadows = new ShadowSender(new FilterMetrics());
            MirrorInfo one = mirror(1, List.of("127.0.0.1:" + silent.getLocalPort()));

            assertThat(shadows.send(COPY, one, null, 0)).isEqualTo(ShadowSender.Result.OK);
            assertThat(shadows.send(COPY, one, null, 0)).isEqualTo(ShadowSender.Result.SHED_IN_FLIGHT);
        }
    }
}
