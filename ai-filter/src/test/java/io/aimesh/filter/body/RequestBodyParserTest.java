package io.aimesh.filter.body;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestBodyParserTest {

    private static final RequestBodyParser PARSER = RequestBodyParser.of(4096);

    private static BodyParseResult parse(RequestKind kind, String body) {
        return PARSER.parse(kind, "application/json", body.getBytes(UTF_8));
    }

    private static ParsedRequest parsed(RequestKind kind, String body) {
        BodyParseResult result = parse(kind, body);
        assertThat(result).isInstanceOf(ParsedRequest.class);
        return (ParsedRequest) result;
    }

    private static BodyError error(RequestKind kind, String body) {
        BodyParseResult result = parse(kind, body);
        assertThat(result).isInstanceOf(BodyError.class);
        return (BodyError) result;
    }

    private static BodyError chatError(String body) {
        return error(RequestKind.CHAT, body);
    }

    @Test
    void parse_readsEveryFieldOfAStreamedChat() {
        ParsedRequest request = parsed(RequestKind.CHAT, """
                {"model":"llama-3-8b","stream":true,"stream_options":{"include_usage":true},"max_tokens":64,
                 "messages":[{"role":"system","content":"Be brief."},
                             {"role":"user","name":"ann","content":[{"type":"text","text":"Hi "},
                                                                    {"type":"image_url","image_url":{"url":"x"}},
                                                                    {"type":"text","text":"there"}]},
                             {"role":"assistant","content":null,"tool_calls":[{"id":"1"}]}]}""");

        assertThat(request).isEqualTo(new ParsedRequest(RequestKind.CHAT, "llama-3-8b", true, true, OptionalLong.of(64),
                List.of("system", "Be brief.", "user", "ann", "Hi ", "there", "assistant"), 0, 3, 1, false,
                1, 1, List.of("[{\"id\":\"1\"}]"), 1));
        assertThat(request.inputChars()).isEqualTo(6 + 9 + 4 + 3 + 3 + 5 + 9);
        assertThat(request.needsUsageRequested()).isFalse();
    }

    @Test
    void parse_prefersMaxCompletionTokensOverMaxTokens_asVllmDoes() {
        ParsedRequest request = parsed(RequestKind.CHAT,
                "{\"model\":\"m\",\"max_tokens\":10,\"max_completion_tokens\":20,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");

        assertThat(request.maxTokens()).hasValue(20);
    }

    @Test
    void parse_takesNullOptionalFieldsAsAbsent() {
        ParsedRequest request = parsed(RequestKind.CHAT, "{\"model\":\"m\",\"stream\":null,\"stream_options\":null,"
                + "\"max_tokens\":null,\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"name\":null}]}");

        assertThat(request.stream()).isFalse();
        assertThat(request.includeUsage()).isFalse();
        assertThat(request.maxTokens()).isEmpty();
        assertThat(request.nameCount()).isZero();
    }

    @Test
    void parse_skipsUnknownFieldsOfAnyShape() {
        ParsedRequest request = parsed(RequestKind.CHAT, """
                {"temperature":0.2,"tools":[{"type":"function","function":{"name":"f","parameters":{"a":[1,{"b":null}]}}}],
                 "model":"m","n":1,"stop":["\\n"],"logit_bias":{"50256":-100},"seed":1e3,"metadata":{"x":"y"},
                 "messages":[{"role":"user","content":"x","extra":{"deep":[[[]]]}}],"user":"u","stream":false,
                 "stream_options":{"continuous_usage_stats":true,"include_usage":false}}""");

        assertThat(request.model()).isEqualTo("m");
        assertThat(request.promptTexts()).containsExactly("user", "x");
    }

    @Test
    void parse_readsCompletionPromptsOfEveryShape() {
        assertThat(parsed(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":\"Once upon\"}").promptTexts())
                .containsExactly("Once upon");
        assertThat(parsed(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":[\"a\",\"bc\"]}").promptTexts())
                .containsExactly("a", "bc");
        ParsedRequest ids = parsed(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":[1,2,3],\"max_tokens\":5}");
        assertThat(ids.promptTokenIds()).isEqualTo(3);
        assertThat(ids.promptTexts()).isEmpty();
        assertThat(ids.maxTokens()).hasValue(5);
        assertThat(parsed(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":[[1,2],[3],[]]}").promptTokenIds())
                .isEqualTo(3);
    }

    @Test
    void parse_completionReadsMaxCompletionTokens_whichModelServersHonourThereToo() {
        ParsedRequest request = parsed(RequestKind.COMPLETION,
                "{\"model\":\"m\",\"prompt\":\"p\",\"max_tokens\":1,\"max_completion_tokens\":2000}");

        assertThat(request.maxTokens()).hasValue(2000);
    }

    @Test
    void parse_takesTheLargerOfMaxTokensAndMaxCompletionTokens_whicheverTheServerHonours() {
        assertThat(parsed(RequestKind.CHAT, "{\"model\":\"m\",\"max_tokens\":30,\"max_completion_tokens\":20,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").maxTokens()).hasValue(30);
    }

    @Test
    void parse_nAndBestOf_multiplyOutput_theLargerCounts() {
        String chat = "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
        assertThat(parsed(RequestKind.CHAT, "{\"model\":\"m\",\"n\":4," + chat).outputMultiplier()).isEqualTo(4);
        assertThat(parsed(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":\"p\",\"n\":2,\"best_of\":5}")
                .outputMultiplier()).isEqualTo(5);
        assertThat(parsed(RequestKind.CHAT, "{\"model\":\"m\",\"n\":null," + chat).outputMultiplier()).isEqualTo(1);
    }

    @Test
    void parse_promptArrays_multiplyOutput_oneAnswerPerPrompt() {
        assertThat(parsed(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":[\"a\",\"b\",\"c\"],\"n\":2}")
                .outputMultiplier()).isEqualTo(6);
        assertThat(parsed(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":[[1,2],[3]]}").outputMultiplier()).isEqualTo(2);
        assertThat(parsed(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":[1,2,3]}").outputMultiplier()).isEqualTo(1);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"n\":0 | n | n: 0 (expected: an integer from 1 to 128)",
        "\"n\":129 | n | n: 129 (expected: an integer from 1 to 128)",
        "\"n\":1.5 | n | n: expected an integer, got 1.5",
        "\"best_of\":\"3\" | best_of | best_of: expected an integer, got a string",
        "\"n\":4,\"best_of\":2 | best_of | best_of: 2 (expected: >= n, which is 4)"})
    void parse_refusesChoiceCountsOutOfRange_namingTheParam(String field, String param, String message) {
        BodyError error = (BodyError) PARSER.parse(RequestKind.COMPLETION, null,
                ("{\"model\":\"m\",\"prompt\":\"p\"," + field + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8));

        assertThat(error.status()).isEqualTo(400);
        assertThat(error.param()).isEqualTo(param);
        assertThat(error.message()).isEqualTo(message);
    }

    @Test
    void parse_keepsToolsFunctionsAndResponseSchemas_asInput() {
        ParsedRequest request = parsed(RequestKind.CHAT, "{\"model\":\"m\",\"tools\":[{\"type\":\"function\"}],"
                + "\"functions\":null,\"response_format\":{\"type\":\"json_schema\"},"
                + "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\"},{\"type\":\"image_url\"}]}]}");

        assertThat(request.schemaTexts()).containsExactly("[{\"type\":\"function\"}]", "{\"type\":\"json_schema\"}");
        assertThat(request.nonTextParts()).isEqualTo(2);
    }

    @Test
    void parse_readsEmbeddingInputs_andIgnoresStreamFields() {
        ParsedRequest request = parsed(RequestKind.EMBEDDING,
                "{\"model\":\"e5\",\"input\":[\"alpha\",\"beta\"],\"stream\":\"not read\",\"max_tokens\":-1}");

        assertThat(request.promptTexts()).containsExactly("alpha", "beta");
        assertThat(request.stream()).isFalse();
        assertThat(request.maxTokens()).isEmpty();
        assertThat(parsed(RequestKind.EMBEDDING, "{\"model\":\"e5\",\"input\":[[5,6],[7]]}").promptTokenIds())
                .isEqualTo(3);
    }

    @Test
    void parse_notesEmbeddingOptionsThatASharedCallWouldNotKeep() {
        assertThat(parsed(RequestKind.EMBEDDING, "{\"model\":\"e5\",\"input\":\"a\"}").embeddingOptions()).isFalse();
        for (String option : new String[] {"\"encoding_format\":\"base64\"", "\"dimensions\":64", "\"user\":\"u-1\""}) {
            assertThat(parsed(RequestKind.EMBEDDING, "{\"model\":\"e5\",\"input\":\"a\"," + option + "}").embeddingOptions())
                    .as(option).isTrue();
        }
        assertThat(parsed(RequestKind.CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"user\":\"u-1\"}").embeddingOptions()).isFalse();
    }

    @Test
    void parse_answers415ToANonJsonContentType() {
        BodyParseResult result = PARSER.parse(RequestKind.CHAT, "text/plain", "{}".getBytes(UTF_8));

        assertThat(result).isEqualTo(new BodyError(415, "content-type: text/plain (expected: application/json)",
                "invalid_request_error", null, null));
    }

    @ParameterizedTest
    @ValueSource(strings = {"application/json", "Application/JSON", "application/json; charset=utf-8",
        "application/json;charset=\"UTF-8\"", " application/json ; foo=bar", ""})
    void parse_acceptsJsonContentTypes(String contentType) {
        BodyParseResult result = PARSER.parse(RequestKind.COMPLETION, contentType,
                "{\"model\":\"m\",\"prompt\":\"p\"}".getBytes(UTF_8));

        assertThat(result).isInstanceOf(ParsedRequest.class);
    }

    @Test
    void parse_acceptsAMissingContentType() {
        assertThat(PARSER.parse(RequestKind.COMPLETION, null, "{\"model\":\"m\",\"prompt\":\"p\"}".getBytes(UTF_8)))
                .isInstanceOf(ParsedRequest.class);
    }

    @Test
    void parse_answers415ToACharsetOtherThanUtf8() {
        BodyParseResult result = PARSER.parse(RequestKind.CHAT, "application/json; charset=latin1", new byte[0]);

        assertThat(result).isEqualTo(BodyError.invalid(415, null, "content-type: charset latin1 (expected: utf-8)"));
    }

    @Test
    void parse_answers413ToABodyOverTheLimit_beforeLookingAtIt() {
        byte[] body = new byte[4097];

        assertThat(PARSER.parse(RequestKind.CHAT, null, body))
                .isEqualTo(BodyError.invalid(413, null, "request body: 4097 bytes (expected: at most 4096)"));
        assertThat(PARSER.parse(RequestKind.CHAT, null, new byte[4096])).extracting("status").isEqualTo(400);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  \n\t "})
    void parse_rejectsAnEmptyBody(String body) {
        assertThat(chatError(body).message()).isEqualTo("request body: empty (expected: a JSON object)");
    }

    @Test
    void parse_rejectsInvalidUtf8_namingTheByteOffset() {
        byte[] body = "{\"model\":\"m\",\"x\":\"\u00e9\u00e9\"}".getBytes(UTF_8);
        body[21] = (byte) 0x41; // the continuation byte of the second é

        BodyParseResult result = PARSER.parse(RequestKind.CHAT, null, body);

        assertThat(result).isEqualTo(BodyError.invalid(400, null, "request body: invalid UTF-8 at byte offset 20"));
    }

    @Test
    void parse_rejectsAByteOrderMark() {
        byte[] json = "{\"model\":\"m\",\"prompt\":\"p\"}".getBytes(UTF_8);
        byte[] body = new byte[json.length + 3];
        body[0] = (byte) 0xEF;
        body[1] = (byte) 0xBB;
        body[2] = (byte) 0xBF;
        System.arraycopy(json, 0, body, 3, json.length);

        assertThat(PARSER.parse(RequestKind.COMPLETION, null, body)).extracting("message")
                .isEqualTo("request body: starts with a byte order mark (expected: a JSON object)");
    }

    @Test
    void parse_rejectsNulBytes_thatWouldMakeJacksonReadUtf32() {
        // Found by RequestBodyParserFuzzTest: Jackson guessed UTF-32 and threw a CharConversionException.
        byte[] body = {0, 0, 0, '{', 0, 0, 0, '}'};

        assertThat(PARSER.parse(RequestKind.CHAT, null, body)).isEqualTo(
                BodyError.invalid(400, null, "request body: malformed JSON at line 1, column 1: a NUL byte (expected: a JSON object)"));
    }

    @Test
    void parse_countsColumnsInCharacters() {
        assertThat(chatError("{\"model\":\"éé\",x}").message())
                .startsWith("request body: malformed JSON at line 1, column 15: Unexpected character ('x'");
    }

    @Test
    void parse_reportsMalformedJsonWithLineAndColumn() {
        BodyError error = chatError("{\"model\": \"m\",\n  \"messages\": [}\n");

        assertThat(error.status()).isEqualTo(400);
        assertThat(error.param()).isNull();
        assertThat(error.message()).startsWith("request body: malformed JSON at line 2, column 16: Unexpected close marker '}'");
        assertThat(error.message()).doesNotContain("\n").doesNotContain("Source");
    }

    @Test
    void parse_reportsTruncatedJson() {
        assertThat(chatError("{\"model\":\"m\",\"messages\":[").message())
                .startsWith("request body: malformed JSON at line 1, column 26: Unexpected end-of-input");
    }

    @Test
    void parse_rejectsASecondValueAfterTheObject() {
        assertThat(error(RequestKind.COMPLETION, "{\"model\":\"a\",\"prompt\":\"p\"} {\"model\":\"b\"}").message())
                .isEqualTo("request body: malformed JSON at line 1, column 28: a second value after the JSON object");
        assertThat(error(RequestKind.COMPLETION, "{\"model\":\"a\",\"prompt\":\"p\"}x").message())
                .startsWith("request body: malformed JSON at line 1, column 27: Unrecognized token 'x'");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[1,2]       | request body: expected a JSON object, got an array",
        "\"text\"    | request body: expected a JSON object, got a string",
        "42          | request body: expected a JSON object, got 42",
        "null        | request body: expected a JSON object, got null"})
    void parse_rejectsABodyThatIsNotAnObject(String body, String message) {
        assertThat(chatError(body)).isEqualTo(BodyError.invalid(400, null, message));
    }

    @Test
    void parse_rejectsAMissingModelAndMessages_inOneError() {
        BodyError error = chatError("{\"stream\":true}");

        assertThat(error).isEqualTo(BodyError.invalid(400, "model",
                "model: missing (expected: a model name); messages: missing (expected: an array of messages)"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "42             | model: expected a string, got 42",
        "null           | model: expected a string, got null",
        "[\"m\"]        | model: expected a string, got an array",
        "\"\"           | model: empty string (expected: a model name)",
        "\"a\\u0000b\"  | model: control character at index 1 (expected: a model name)",
        "\"a\\r\\nX: y\"| model: control character at index 1 (expected: a model name)"})
    void parse_rejectsAModelThatIsNotANonEmptyString(String model, String message) {
        BodyError error = chatError("{\"model\":" + model + ",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");

        assertThat(error).isEqualTo(BodyError.invalid(400, "model", message));
    }

    @Test
    void parse_rejectsAnOverlongModel() {
        String model = "m".repeat(257);

        assertThat(chatError("{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").message())
                .isEqualTo("model: 257 characters (expected: at most 256)");
    }

    @Test
    void parse_rejectsADuplicateModel_soRoutingAndBillingCannotDisagree() {
        BodyError error = chatError("{\"model\":\"cheap\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"model\":\"expensive\"}");

        assertThat(error).isEqualTo(BodyError.invalid(400, "model", "model: duplicate key (the backend would read the last one)"));
    }

    @Test
    void parse_rejectsDuplicatesOfEveryFieldItReads() {
        assertThat(chatError("{\"model\":\"m\",\"max_tokens\":1,\"max_tokens\":100000,\"messages\":[{\"role\":\"user\"}]}").param())
                .isEqualTo("max_tokens");
        assertThat(chatError("{\"model\":\"m\",\"stream_options\":{\"include_usage\":true,\"include_usage\":false},"
                + "\"messages\":[{\"role\":\"user\"}]}").param()).isEqualTo("stream_options.include_usage");
        assertThat(chatError("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"name\":\"a\",\"name\":\"b\"}]}").param())
                .isEqualTo("messages[0].name");
    }

    @Test
    void parse_allowsDuplicatesOfFieldsItDoesNotRead() {
        assertThat(parse(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":\"p\",\"user\":\"a\",\"user\":\"b\"}"))
                .isInstanceOf(ParsedRequest.class);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"stream\":\"yes\"                        | stream | stream: expected a boolean, got a string",
        "\"stream\":1                              | stream | stream: expected a boolean, got 1",
        "\"stream_options\":true                   | stream_options | stream_options: expected an object, got a boolean",
        "\"stream_options\":{\"include_usage\":1}  | stream_options.include_usage | stream_options.include_usage: expected a boolean, got 1",
        "\"max_tokens\":\"ten\"                    | max_tokens | max_tokens: expected an integer, got a string",
        "\"max_tokens\":10.5                       | max_tokens | max_tokens: expected an integer, got 10.5",
        "\"max_tokens\":1e3                        | max_tokens | max_tokens: expected an integer, got 1e3",
        "\"max_tokens\":0                          | max_tokens | max_tokens: 0 (expected: an integer from 1 to 16777216)",
        "\"max_tokens\":-5                         | max_tokens | max_tokens: -5 (expected: an integer from 1 to 16777216)",
        "\"max_tokens\":16777217                   | max_tokens | max_tokens: 16777217 (expected: an integer from 1 to 16777216)",
        "\"max_completion_tokens\":99999999999999999999999999999 | max_completion_tokens | max_completion_tokens: 999999999999999999999999... (expected: an integer from 1 to 16777216)"})
    void parse_rejectsAWrongTypeOrRange_namingTheField(String field, String param, String message) {
        BodyError error = chatError("{\"model\":\"m\"," + field + ",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");

        assertThat(error).isEqualTo(BodyError.invalid(400, param, message));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"messages\":{}                                        | messages: expected an array of messages, got an object",
        "\"messages\":null                                      | messages: expected an array of messages, got null",
        "\"messages\":[]                                        | messages: empty array (expected: at least one message)",
        "\"messages\":[\"hi\"]                                  | messages[0]: expected an object, got a string",
        "\"messages\":[{\"content\":\"x\"}]                     | messages[0].role: missing (expected: a string such as user or assistant)",
        "\"messages\":[{\"role\":7}]                            | messages[0].role: expected a string, got 7",
        "\"messages\":[{\"role\":\"user\",\"content\":42}]      | messages[0].content: expected a string or an array of content parts, got 42",
        "\"messages\":[{\"role\":\"user\",\"content\":{}}]      | messages[0].content: expected a string or an array of content parts, got an object",
        "\"messages\":[{\"role\":\"user\",\"name\":[]}]         | messages[0].name: expected a string, got an array",
        "\"messages\":[{\"role\":\"user\",\"content\":[\"x\"]}] | messages[0].content[0]: expected an object, got a string",
        "\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}] | messages[0].content[0].type: missing (expected: a string such as text or image_url)",
        "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}] | messages[0].content[0].text: missing (expected: a string)",
        "\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":5,\"type\":\"text\"}]}] | messages[0].content[0].text: expected a string, got 5",
        "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":null}]}] | messages[0].content[0].type: expected a string, got null"})
    void parse_rejectsMalformedMessages_namingThePath(String messages, String message) {
        BodyError error = chatError("{\"model\":\"m\"," + messages + "}");

        assertThat(error.message()).isEqualTo(message);
        assertThat(error.param()).isEqualTo(message.substring(0, message.indexOf(':')));
    }

    @Test
    void parse_ignoresTheTextOfNonTextParts() {
        ParsedRequest request = parsed(RequestKind.CHAT,
                "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"text\":5}]}]}");

        assertThat(request.promptTexts()).containsExactly("user");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"model\":\"m\"}                        | prompt: missing (expected: a string or an array of strings or token ids)",
        "{\"model\":\"m\",\"prompt\":null}        | prompt: expected a string or an array, got null",
        "{\"model\":\"m\",\"prompt\":[]}          | prompt: empty array (expected: at least one string or token id)",
        "{\"model\":\"m\",\"prompt\":[\"a\",1]}   | prompt[1]: expected a string like prompt[0], got 1",
        "{\"model\":\"m\",\"prompt\":[1,\"a\"]}   | prompt[1]: expected a token id like prompt[0], got a string",
        "{\"model\":\"m\",\"prompt\":[[1],2]}     | prompt[1]: expected an array of token ids like prompt[0], got 2",
        "{\"model\":\"m\",\"prompt\":[[1,\"a\"]]} | prompt[0][1]: expected a token id, got a string",
        "{\"model\":\"m\",\"prompt\":[true]}      | prompt[0]: expected a string, a token id or an array of token ids, got a boolean",
        "{\"model\":\"m\",\"prompt\":[-1]}        | prompt[0]: -1 (expected: a token id from 0 to 2147483647)",
        "{\"model\":\"m\",\"prompt\":[[1,3000000000]]} | prompt[0][1]: 3000000000 (expected: a token id from 0 to 2147483647)"})
    void parse_rejectsMalformedPrompts_namingThePath(String body, String message) {
        BodyError error = error(RequestKind.COMPLETION, body);

        assertThat(error.message()).isEqualTo(message);
    }

    @Test
    void parse_rejectsAMissingEmbeddingInput() {
        assertThat(error(RequestKind.EMBEDDING, "{\"model\":\"m\",\"prompt\":\"not an input\"}").message())
                .isEqualTo("input: missing (expected: a string or an array of strings or token ids)");
    }

    @Test
    void parse_reportsEveryProblem_upToALimit() {
        StringBuilder prompt = new StringBuilder("[\"ok\"");
        for (int i = 0; i < 20; i++) {
            prompt.append(",").append(i);
        }
        BodyError error = error(RequestKind.COMPLETION, "{\"model\":\"m\",\"stream\":\"yes\",\"prompt\":" + prompt + "]}");

        assertThat(error.param()).isEqualTo("stream");
        assertThat(error.message()).startsWith("stream: expected a boolean, got a string; prompt[1]: expected a string")
                .endsWith("; and 13 more");
        assertThat(error.message().split("; ")).hasSize(Problems.MAX_SHOWN + 1);
    }

    @Test
    void parse_rejectsNestingDeeperThanJacksonAllows_asMalformed() {
        String deep = "[".repeat(1001) + "]".repeat(1001);

        assertThat(error(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":\"p\",\"x\":" + deep + "}").message())
                .startsWith("request body: malformed JSON at line 1, column ")
                .contains("nesting depth (1001) exceeds the maximum allowed (1000");
    }

    @Test
    void parse_keepsUnicodeAndEscapesInPromptTexts() {
        ParsedRequest request = parsed(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":\"caf\u00e9 \\u2603 \\ud83d\\ude00 \\\"q\\\"\"}");

        assertThat(request.promptTexts()).containsExactly("caf\u00e9 \u2603 \ud83d\ude00 \"q\"");
    }

    @Test
    void of_rejectsANonPositiveLimit() {
        assertThatThrownBy(() -> RequestBodyParser.of(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxBodyBytes: 0 (expected: >= 1)");
    }

    @Test
    void parse_requiresKindAndBody() {
        assertThatThrownBy(() -> PARSER.parse(null, null, new byte[0])).isInstanceOf(NullPointerException.class).hasMessage("kind");
        assertThatThrownBy(() -> PARSER.parse(RequestKind.CHAT, null, null)).isInstanceOf(NullPointerException.class).hasMessage("body");
    }
}
