package io.aimesh.filter.body;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Optional;

/**
 * Fuzzes the request body parser: whatever the bytes, each kind of call gives a request or an
 * OpenAI error, never an exception, and what it gives is consistent: the error renders as valid
 * JSON, the request's tokens can be counted, and a body rewritten to ask for usage parses to the
 * same request asking for usage. In CI this replays the seed corpus in
 * {@code RequestBodyParserFuzzTestInputs}; {@code JAZZER_FUZZ=1 mvn -pl ai-filter test
 * -Dtest=RequestBodyParserFuzzTest} fuzzes for real.
 */
class RequestBodyParserFuzzTest {

    private static final RequestBodyParser PARSER = RequestBodyParser.of(8192);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @FuzzTest(maxDuration = "10s")
    void parse_neverThrows_andIsConsistent(byte[] input) throws IOException {
        for (RequestKind kind : RequestKind.values()) {
            BodyParseResult result = PARSER.parse(kind, null, input);

            assertThat(PARSER.parse(kind, null, input)).isEqualTo(result);
            if (result instanceof BodyError) {
                checkError((BodyError) result);
            } else {
                checkRequest(kind, (ParsedRequest) result, input);
            }
        }
    }

    private static void checkError(BodyError error) throws IOException {
        assertThat(error.status()).isIn(400, 413);
        assertThat(error.message()).isNotBlank();
        JsonNode json = MAPPER.readTree(error.toJson());
        assertThat(json.at("/error/message").asText()).isEqualTo(error.message());
    }

    private static void checkRequest(RequestKind kind, ParsedRequest request, byte[] input) {
        assertThat(request.kind()).isEqualTo(kind);
        assertThat(request.model()).isNotEmpty();
        assertThat(TokenEstimator.of("cl100k_base").promptTokens(request)).isNotNegative();
        assertThat(TokenEstimator.of("approximate").promptTokens(request)).isNotNegative();
        Optional<byte[]> rewritten = UsageRewriter.rewrite(request, input);
        assertThat(rewritten.isPresent()).isEqualTo(request.needsUsageRequested());
        if (rewritten.isPresent()) {
            assertThat(RequestBodyParser.of(input.length + 64).parse(kind, null, rewritten.get()))
                    .isEqualTo(new ParsedRequest(kind, request.model(), true, true, request.maxTokens(),
                            request.promptTexts(), request.promptTokenIds(), request.messageCount(), request.nameCount(),
                            request.embeddingOptions(), request.choices(), request.prompts(), request.schemaTexts(),
                            request.nonTextParts()));
        }
    }
}
