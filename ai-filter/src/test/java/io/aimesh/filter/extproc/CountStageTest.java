package io.aimesh.filter.extproc;

import static io.aimesh.filter.extproc.ProcessorHarness.chat;
import static io.aimesh.filter.extproc.ProcessorHarness.chatHeaders;
import static io.aimesh.filter.extproc.ProcessorHarness.responseBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.FilterConfig;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The response: the answer's usage, streamed deltas or status settles the reservation (11 prompt
 * tokens and max_tokens 100 here, against acme's 1,000), and a usage event the client did not ask
 * for is hidden.
 */
class CountStageTest {
    private static final long PROBE = 12; // the next request's own reservation: 11 + max_tokens 1
    private final ProcessorHarness filter = ProcessorHarness.of(FilterConfig.newBuilder()
            .addModels(ProcessorHarness.LLAMA).addTenants(ProcessorHarness.acme(1_000)).build());

    @AfterEach
    void close() {
        filter.close();
    }

    private ProcessorHarness.Stream admitted(String fields) {
        ProcessorHarness.Stream stream = filter.open();
        stream.request(chatHeaders(), chat(fields));
        return stream;
    }

    @Test
    void theUsage_replacesTheReservation() {
        admitted("\"max_tokens\":100,").send(responseBody(200,
                "{\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}", true));

        assertThat(filter.remainingAfterOneMore()).isEqualTo(1_000 - 10 - PROBE);
    }

    @Test
    void theUsageOfAFailedAnswer_isChargedToo() {
        admitted("\"max_tokens\":100,").send(responseBody(500,
                "{\"error\":{},\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":30,\"total_tokens\":37}}", true));

        assertThat(filter.remainingAfterOneMore()).isEqualTo(1_000 - 37 - PROBE);
    }

    @Test
    void envoysUpstreamTimeout_keepsTheWholeReservationCharged_regressionForFreeFailedAnswers() {
        admitted("\"max_tokens\":100,").send(responseBody(504, "upstream request timeout", true));

        assertThat(filter.remainingAfterOneMore()).isEqualTo(1_000 - 111 - PROBE);
    }

    @Test
    void aModelServersRefusal_chargesTheInputOnly() {
        admitted("\"max_tokens\":100,").send(responseBody(400, "{\"error\":{\"message\":\"no\"}}", true));

        assertThat(filter.remainingAfterOneMore()).isEqualTo(1_000 - 11 - PROBE);
    }

    @Test
    void envoysReplyForAnUnreachableUpstream_chargesNothing() {
        admitted("\"max_tokens\":100,").send(responseBody(503, "upstream connect error or disconnect/reset before headers. "
                + "reset reason: remote connection failure, transport failure reason: delayed connect error: 111", true));

        assertThat(filter.remainingAfterOneMore()).isEqualTo(1_000 - PROBE);
    }

    @Test
    void theStatus_countsWhenItCameWithTheResponseHeaders_asWhenAPluginRunsOnThem() {
        ProcessorHarness.Stream stream = admitted("\"max_tokens\":100,");
        ProcessingRequest headers = responseBody(503, "", false).toBuilder()
                .setResponseHeaders(io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders.getDefaultInstance()).build();
        stream.send(headers);
        stream.send(responseBody(0, "upstream connect error or disconnect/reset before headers. "
                + "reset reason: remote connection failure, transport failure reason: delayed connect error: 111", true));

        assertThat(filter.remainingAfterOneMore()).as("charged nothing, as with the status on the body").isEqualTo(1_000 - PROBE);
    }

    @Test
    void aStreamThatEndsEarly_chargesTheInputAndTheDeltasStreamed() {
        ProcessorHarness.Stream stream = admitted("\"max_tokens\":100,\"stream\":true,\"stream_options\":{\"include_usage\":true},");
        stream.send(responseBody(200, "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"
                + "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n", false));
        stream.processor.onError(new RuntimeException("upstream reset"));

        assertThat(filter.remainingAfterOneMore()).isEqualTo(1_000 - 11 - 2 - PROBE);
    }

    @Test
    void theUsageEventTheFilterAskedFor_isHiddenFromTheClient() {
        ProcessorHarness.Stream stream = admitted("\"max_tokens\":100,\"stream\":true,");
        String usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":1,\"total_tokens\":8}}\n\n";

        ProcessingResponse answer = stream.send(responseBody(200,
                "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n" + usage + "data: [DONE]\n\n", true));

        assertThat(answer.getResponseBody().getResponse().getBodyMutation().getBody().toStringUtf8())
                .doesNotContain("usage").contains("[DONE]");
        assertThat(filter.remainingAfterOneMore()).isEqualTo(1_000 - 8 - PROBE);
    }
}
