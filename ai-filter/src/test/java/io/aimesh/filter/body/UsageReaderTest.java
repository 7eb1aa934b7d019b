package io.aimesh.filter.body;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UsageReaderTest {

    private static Optional<Usage> read(String body) {
        return UsageReader.fromJson(body.getBytes(UTF_8));
    }

    @Test
    void fromJson_readsTheUsageOfAChatCompletion() {
        String body = """
                {"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",
                 "content":"{\\"usage\\":{\\"prompt_tokens\\":1}}"}}],
                 "usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,
                          "prompt_tokens_details":{"cached_tokens":0}},"system_fingerprint":null}""";

        assertThat(read(body)).contains(new Usage(12, 30, 42));
    }

    @Test
    void fromJson_readsTheCachedPromptTokens_andTakesAnImpossibleCountAsNone() {
        assertThat(read("{\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":5,"
                + "\"prompt_tokens_details\":{\"audio_tokens\":0,\"cached_tokens\":64}}}")).contains(new Usage(100, 5, 105, 64));
        assertThat(read("{\"usage\":{\"prompt_tokens\":10,\"prompt_tokens_details\":{\"cached_tokens\":64}}}"))
                .contains(new Usage(10, 0, 10, 0));
        assertThat(read("{\"usage\":{\"prompt_tokens\":10,\"prompt_tokens_details\":{\"cached_tokens\":-3}}}"))
                .contains(new Usage(10, 0, 10, 0));
    }

    @Test
    void fromJson_defaultsMissingCompletionAndTotal_asForEmbeddings() {
        assertThat(read("{\"object\":\"list\",\"data\":[],\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}"))
                .contains(new Usage(8, 0, 8));
        assertThat(read("{\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":2}}")).contains(new Usage(8, 2, 10));
    }

    @Test
    void fromJson_isEmptyForBytesJacksonWouldReadAsUtf16() {
        assertThat(UsageReader.fromJson(new byte[] {(byte) 0xFE, (byte) 0xFF, 0, '{', 0, '}'})).isEmpty();
        assertThat(UsageReader.fromJson(new byte[] {'{', 0, '}', 0})).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "not json", "[]", "{\"usage\":null}", "{\"id\":1}", "{\"usage\":{}}",
        "{\"usage\":{\"prompt_tokens\":\"12\"}}", "{\"usage\":{\"prompt_tokens\":-1}}",
        "{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2.5}}",
        "{\"usage\":{\"prompt_tokens\":99999999999999999999999}}",
        "{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2},", "{\"usage\":7}"})
    void fromJson_isEmptyForBodiesWithoutAValidUsage(String body) {
        assertThat(read(body)).isEmpty();
    }
}
