package io.aimesh.filter.extproc;

import static io.aimesh.filter.extproc.ProcessorHarness.chat;
import static io.aimesh.filter.extproc.ProcessorHarness.chatHeaders;
import static io.aimesh.filter.extproc.ProcessorHarness.metadataHeader;
import static io.aimesh.filter.extproc.ProcessorHarness.setHeader;
import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.WireContract;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What an admitted request takes upstream, and what its client's response will carry. */
class ForwardStageTest {
    private final ProcessorHarness filter = ProcessorHarness.of(FilterConfig.newBuilder()
            .addModels(ProcessorHarness.LLAMA).addTenants(ProcessorHarness.acme(1_000)).build());

    @AfterEach
    void close() {
        filter.close();
    }

    @Test
    void theModelHeader_isSet_andTheRouteCacheCleared_soEnvoyRoutesByIt() {
        CommonResponse common = filter.open().request(chatHeaders(), chat("")).getRequestBody().getResponse();

        assertThat(common.getClearRouteCache()).isTrue();
        assertThat(setHeader(filter.open().request(chatHeaders(), chat("")), WireContract.MODEL_HEADER)).hasValue("llama");
    }

    @Test
    void theTenant_isNamedToTheModelServer_andTheRateLimitHeadersGoBackAsMetadata() {
        ProcessingResponse answer = filter.open().request(chatHeaders(), chat(""));

        assertThat(setHeader(answer, WireContract.TENANT_HEADER)).hasValue("acme");
        assertThat(metadataHeader(answer, "x-ratelimit-limit-tokens")).hasValue("1000");
        assertThat(metadataHeader(answer, "x-ratelimit-reset-tokens")).hasValue("30s");
        assertThat(metadataHeader(answer, WireContract.DECISION_HEADER)).hasValue("admitted rule=envoy-split tenant=acme priority=standard");
    }

    @Test
    void aStreamThatDidNotAskForUsage_isRewrittenToAskForIt() {
        ProcessingResponse answer = filter.open().request(chatHeaders(), chat("\"stream\":true,"));

        String body = answer.getRequestBody().getResponse().getBodyMutation().getBody().toStringUtf8();
        assertThat(body).contains("\"include_usage\":true");
        assertThat(setHeader(answer, "content-length")).hasValue(Integer.toString(body.length()));
    }

    @Test
    void aBodyThatAskedForUsage_isLeftAlone() {
        ProcessingResponse answer = filter.open().request(chatHeaders(), chat(""));

        assertThat(answer.getRequestBody().getResponse().hasBodyMutation()).isFalse();
    }
}
