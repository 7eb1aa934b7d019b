package io.aimesh.filter.extproc;

import static io.aimesh.filter.extproc.ProcessorHarness.chatHeaders;
import static io.aimesh.filter.extproc.ProcessorHarness.decision;
import static io.aimesh.filter.extproc.ProcessorHarness.responseBody;
import static io.aimesh.filter.extproc.ProcessorHarness.setHeader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.Model;
import io.aimesh.filter.api.Pool;
import io.aimesh.filter.api.Scorers;
import io.aimesh.filter.api.Settings;
import io.aimesh.filter.api.Version;
import io.aimesh.filter.api.WireContract;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The endpoint of a picker pool whose one endpoint takes one request at a time: picked and held,
 * shed when saturated, or queued until it has room or the wait ends.
 */
class PickStageTest {
    private static final String ENDPOINT = "127.0.0.1:9";
    private static final Pool GPU = Pool.newBuilder().setName("gpu").addEndpoints(ENDPOINT).setMetricsPath("/metrics")
            .setMetricsIntervalMs(60_000).setScorers(Scorers.newBuilder().setQueue(1)).setMaxQueue(8)
            .setMaxKvCachePercent(90).setRetryAfterSeconds(3).setMaxInFlight(1).build();
    private static final String BODY = "{\"model\":\"pooled\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private static ProcessorHarness filter(Pool pool) {
        return ProcessorHarness.of(FilterConfig.newBuilder()
                .addModels(Model.newBuilder().setName("pooled").setTokenizer("approximate")
                        .addVersions(Version.newBuilder().setName("v1").setPool("gpu").setWeight(1)))
                .addPools(pool).addTenants(ProcessorHarness.acme(1_000))
                .setSettings(Settings.newBuilder().setMessageTimeoutMs(2_000)).build());
    }

    @Test
    void aPick_namesTheEndpointInTheHeaderAndInEnvoysLbMetadata() {
        try (ProcessorHarness filter = filter(GPU)) {
            ProcessingResponse answer = filter.open().request(chatHeaders(), BODY);

            assertThat(setHeader(answer, WireContract.DESTINATION_HEADER)).hasValue(ENDPOINT);
            assertThat(setHeader(answer, WireContract.POOL_HEADER)).hasValue("gpu");
            assertThat(answer.getDynamicMetadata().getFieldsMap().get(WireContract.LB_NAMESPACE).getStructValue()
                    .getFieldsMap().get(WireContract.DESTINATION_HEADER).getStringValue()).isEqualTo(ENDPOINT);
            assertThat(decision(answer)).startsWith("admitted rule=weight pool=gpu");
        }
    }

    @Test
    void aSaturatedPoolThatDoesNotQueue_shedsWith429AndItsRetryAfter() {
        try (ProcessorHarness filter = filter(GPU)) {
            filter.open().request(chatHeaders(), BODY); // holds the endpoint's one slot

            ProcessingResponse answer = filter.open().request(chatHeaders(), BODY);

            assertThat(answer.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(429);
            assertThat(setHeader(answer, "retry-after")).hasValue("3");
            assertThat(decision(answer)).isEqualTo("shed reason=saturated pool=gpu tenant=acme priority=standard");
        }
    }

    @Test
    void aQueuedRequest_goesWhenTheEndpointFrees_andSaysHowLongItWaited() {
        Pool queues = GPU.toBuilder().setQueueWhenSaturated(true).setQueueSize(4).setQueueTimeoutMs(5_000).build();
        try (ProcessorHarness filter = filter(queues)) {
            ProcessorHarness.Stream first = filter.open();
            first.request(chatHeaders(), BODY);
            ProcessorHarness.Stream second = filter.open();

            assertThat(second.request(chatHeaders(), BODY)).as("waits for the endpoint").isNull();
            first.send(responseBody(200, "{\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":5}}", true));

            await().atMost(Duration.ofSeconds(5)).until(() -> second.responses.size() == 2);
            ProcessingResponse answer = second.responses.get(1);
            assertThat(setHeader(answer, WireContract.DESTINATION_HEADER)).hasValue(ENDPOINT);
            assertThat(decision(answer)).contains(" waited_ms=");
        }
    }

    @Test
    void aQueuedRequestWhoseWaitEnds_isShed_asQueueTimeout() {
        Pool queues = GPU.toBuilder().setQueueWhenSaturated(true).setQueueSize(4).setQueueTimeoutMs(30).build();
        try (ProcessorHarness filter = filter(queues)) {
            filter.open().request(chatHeaders(), BODY);
            ProcessorHarness.Stream second = filter.open();
            second.request(chatHeaders(), BODY);

            await().atMost(Duration.ofSeconds(5)).until(() -> second.responses.size() == 2);
            assertThat(decision(second.responses.get(1))).isEqualTo("shed reason=queue-timeout pool=gpu tenant=acme priority=standard");
        }
    }
}
