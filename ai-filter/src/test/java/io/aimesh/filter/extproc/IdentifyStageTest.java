package io.aimesh.filter.extproc;

import static io.aimesh.filter.extproc.ProcessorHarness.chatHeaders;
import static io.aimesh.filter.extproc.ProcessorHarness.decision;
import static io.aimesh.filter.extproc.ProcessorHarness.headers;
import static io.aimesh.filter.extproc.ProcessorHarness.setHeader;
import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.Settings;
import io.aimesh.filter.api.WireContract;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The request headers: internal headers stripped, the tenant identified or the request refused. */
class IdentifyStageTest {
    private final ProcessorHarness filter = ProcessorHarness.of(FilterConfig.newBuilder()
            .addModels(ProcessorHarness.LLAMA).addTenants(ProcessorHarness.acme(1_000))
            .setSettings(Settings.newBuilder().addClientHeaders("x-aimesh-version")).build());

    @AfterEach
    void close() {
        filter.close();
    }

    @Test
    void everyInternalHeader_isRemoved_butTheConfiguredOverrideHeaders() {
        String[] sent = new String[2 * WireContract.INTERNAL_HEADERS.size() + 4];
        for (int i = 0; i < WireContract.INTERNAL_HEADERS.size(); i++) {
            sent[2 * i] = WireContract.INTERNAL_HEADERS.get(i);
            sent[2 * i + 1] = "spoofed";
        }
        sent[sent.length - 4] = "x-aimesh-version";
        sent[sent.length - 3] = "v2";
        sent[sent.length - 2] = "x-aimesh-anything";
        sent[sent.length - 1] = "spoofed";

        ProcessingResponse answer = filter.open().send(chatHeaders(sent));

        assertThat(answer.getRequestHeaders().getResponse().getHeaderMutation().getRemoveHeadersList())
                .containsAll(WireContract.INTERNAL_HEADERS).contains("x-aimesh-anything").doesNotContain("x-aimesh-version");
    }

    @Test
    void anUnknownKey_is401_andNoKeySaysHowToSendOne() {
        ProcessingResponse wrong = filter.open().send(headers("POST", "/v1/chat/completions", false,
                "authorization", "Bearer nope"));
        ProcessingResponse none = filter.open().send(headers("POST", "/v1/chat/completions", false));

        assertThat(wrong.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(401);
        assertThat(decision(wrong)).isEqualTo("denied reason=unknown-tenant");
        assertThat(wrong.getImmediateResponse().getBody().toStringUtf8()).contains("Incorrect API key", "invalid_api_key");
        assertThat(none.getImmediateResponse().getBody().toStringUtf8()).contains("Authorization: Bearer <key>");
    }

    @Test
    void aKnownKey_passesTheHeaders() {
        ProcessingResponse answer = filter.open().send(chatHeaders());

        assertThat(answer.hasRequestHeaders()).isTrue();
    }

    @Test
    void aRequestThatIsNotInference_needsNoIdentity() {
        assertThat(filter.open().send(headers("GET", "/v1/models", true)).hasRequestHeaders()).isTrue();
    }

    @Test
    void anInferenceRequestWithoutABody_is400() {
        ProcessingResponse answer = filter.open().send(headers("POST", "/v1/chat/completions", true,
                "authorization", "Bearer " + ProcessorHarness.ACME_KEY));

        assertThat(answer.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(400);
        assertThat(decision(answer)).isEqualTo("error reason=empty-body");
    }

    @Test
    void beforeTheFirstConfig_everyRequestIs503_withRetryAfter() {
        try (ProcessorHarness unconfigured = ProcessorHarness.of(null)) {
            ProcessingResponse answer = unconfigured.open().send(chatHeaders());

            assertThat(answer.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(503);
            assertThat(setHeader(answer, "retry-after")).hasValue("1");
            assertThat(decision(answer)).isEqualTo("error reason=no-config");
        }
    }
}
