package io.aimesh.filter.extproc;

import static io.aimesh.filter.extproc.ProcessorHarness.chatHeaders;
import static io.aimesh.filter.extproc.ProcessorHarness.decision;
import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.Settings;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The request body: a body the parser refuses is answered with its error, naming every problem. */
class ParseStageTest {
    private final ProcessorHarness filter = ProcessorHarness.of(FilterConfig.newBuilder()
            .addModels(ProcessorHarness.LLAMA).addTenants(ProcessorHarness.acme(1_000))
            .setSettings(Settings.newBuilder().setMaxRequestBytes(256)).build());

    @AfterEach
    void close() {
        filter.close();
    }

    @Test
    void aWrongField_is400_namingTheParam() {
        ProcessingResponse answer = filter.open().request(chatHeaders(), ProcessorHarness.chat("\"n\":0,"));

        assertThat(answer.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(400);
        assertThat(decision(answer)).isEqualTo("error reason=bad-request status=400");
        assertThat(answer.getImmediateResponse().getBody().toStringUtf8()).contains("\"param\":\"n\"");
    }

    @Test
    void aBodyOverTheLimit_is413() {
        ProcessingResponse answer = filter.open().request(chatHeaders(), ProcessorHarness.chat("\"user\":\"" + "x".repeat(300) + "\","));

        assertThat(answer.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(413);
    }
}
