package io.aimesh.filter.extproc;

import static io.aimesh.filter.extproc.ProcessorHarness.chat;
import static io.aimesh.filter.extproc.ProcessorHarness.chatHeaders;
import static io.aimesh.filter.extproc.ProcessorHarness.decision;
import static io.aimesh.filter.extproc.ProcessorHarness.metadataHeader;
import static io.aimesh.filter.extproc.ProcessorHarness.setHeader;
import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.FilterConfig;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The reservation: the prompt (11 tokens here: 20 characters / 4 and the chat overhead) plus the
 * most output the request may produce, against acme's 100 tokens a minute.
 */
class AdmitStageTest {
    private static final long PROMPT = 11;
    private final ProcessorHarness filter = ProcessorHarness.of(FilterConfig.newBuilder()
            .addModels(ProcessorHarness.LLAMA).addTenants(ProcessorHarness.acme(100)).build());

    @AfterEach
    void close() {
        filter.close();
    }

    @Test
    void anAdmittedRequest_reservesItsPromptAndMaxTokens() {
        ProcessingResponse answer = filter.open().request(chatHeaders(), chat("\"max_tokens\":10,"));

        assertThat(metadataHeader(answer, "x-ratelimit-remaining-tokens")).hasValue(Long.toString(100 - PROMPT - 10));
        assertThat(metadataHeader(answer, "x-ratelimit-limit-tokens")).hasValue("100");
    }

    @Test
    void n_multipliesTheReservedOutput() {
        ProcessingResponse answer = filter.open().request(chatHeaders(), chat("\"max_tokens\":10,\"n\":4,"));

        assertThat(metadataHeader(answer, "x-ratelimit-remaining-tokens")).hasValue(Long.toString(100 - PROMPT - 40));
    }

    @Test
    void withoutMaxTokens_theModelsDefaultIsReserved() {
        ProcessingResponse answer = filter.open().request(chatHeaders(), chat(""));

        assertThat(metadataHeader(answer, "x-ratelimit-remaining-tokens")).hasValue(Long.toString(100 - PROMPT - 16));
    }

    @Test
    void overTheBudget_is429_withRetryAfter_namingTheLimit() {
        filter.open().request(chatHeaders(), chat("\"max_tokens\":80,"));

        ProcessingResponse answer = filter.open().request(chatHeaders(), chat("\"max_tokens\":10,"));

        assertThat(answer.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(429);
        assertThat(decision(answer)).isEqualTo("limited tenant=acme model=llama window=1m limit=acme:*:tokens-per-minute:total");
        assertThat(setHeader(answer, "retry-after")).hasValue("30");
        assertThat(setHeader(answer, "x-ratelimit-remaining-tokens")).hasValue(Long.toString(100 - PROMPT - 80));
        assertThat(answer.getImmediateResponse().getBody().toStringUtf8()).contains("\"code\":\"rate_limit_exceeded\"");
    }

    @Test
    void aRequestThatCanNeverFit_isRefusedAtOnce_withoutRetryAfter() {
        ProcessingResponse answer = filter.open().request(chatHeaders(), chat("\"max_tokens\":10,\"n\":20,"));

        assertThat(answer.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(429);
        assertThat(decision(answer)).startsWith("limited reason=too-large tenant=acme model=llama window=1m");
        assertThat(setHeader(answer, "retry-after")).isEmpty();
        assertThat(answer.getImmediateResponse().getBody().toStringUtf8()).contains("Request too large", "rate_limit_exceeded");
        assertThat(filter.remainingAfterOneMore()).as("nothing was reserved").isEqualTo(100 - PROMPT - 1);
    }

    @Test
    void maxCompletionTokensOnCompletions_isReserved_regressionForAFreeTwoThousandTokens() {
        ProcessingResponse answer = filter.open().request(ProcessorHarness.headers("POST", "/v1/completions", false,
                        "authorization", "Bearer " + ProcessorHarness.ACME_KEY),
                "{\"model\":\"llama\",\"prompt\":\"Say hi\",\"max_tokens\":1,\"max_completion_tokens\":2000}");

        assertThat(answer.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(429);
        assertThat(decision(answer)).startsWith("limited reason=too-large");
    }
}
