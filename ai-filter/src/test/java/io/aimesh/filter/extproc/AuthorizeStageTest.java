package io.aimesh.filter.extproc;

import static io.aimesh.filter.extproc.ProcessorHarness.chatHeaders;
import static io.aimesh.filter.extproc.ProcessorHarness.decision;
import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.Model;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The model: it must exist (404) and the tenant must be allowed it (403). */
class AuthorizeStageTest {
    private final ProcessorHarness filter = ProcessorHarness.of(FilterConfig.newBuilder()
            .addModels(ProcessorHarness.LLAMA)
            .addModels(Model.newBuilder().setName("secret").setTokenizer("approximate"))
            .addTenants(ProcessorHarness.acme(1_000).clearAllowedModels().addAllowedModels("llama")).build());

    @AfterEach
    void close() {
        filter.close();
    }

    @Test
    void anUnknownModel_is404_asOpenAiAnswers() {
        ProcessingResponse answer = filter.open().request(chatHeaders(),
                "{\"model\":\"gpt-9\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        assertThat(answer.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(404);
        assertThat(decision(answer)).isEqualTo("denied reason=unknown-model model=gpt-9");
        assertThat(answer.getImmediateResponse().getBody().toStringUtf8()).contains("model_not_found");
    }

    @Test
    void aModelTheTenantMayNotUse_is403() {
        ProcessingResponse answer = filter.open().request(chatHeaders(),
                "{\"model\":\"secret\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        assertThat(answer.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(403);
        assertThat(decision(answer)).isEqualTo("denied reason=model-not-allowed tenant=acme model=secret");
    }

    @Test
    void anAllowedModel_goesOn() {
        ProcessingResponse answer = filter.open().request(chatHeaders(), ProcessorHarness.chat(""));

        assertThat(answer.hasRequestBody()).isTrue();
    }
}
