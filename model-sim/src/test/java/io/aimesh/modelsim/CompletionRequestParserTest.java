package io.aimesh.modelsim;

import static io.aimesh.modelsim.CompletionRequest.Kind.CHAT;
import static io.aimesh.modelsim.CompletionRequest.Kind.TEXT;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.modelsim.CompletionRequestParser.Problem;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class CompletionRequestParserTest {

    @Test
    void chat_countsQuarterTokenPerCharOfEveryMessageContent() {
        CompletionRequest request = parse(CHAT, """
                {"model":"m","messages":[
                  {"role":"system","content":"12345678"},
                  {"role":"user","content":[{"type":"text","text":"1234"},{"type":"image_url","image_url":{}}]},
                  {"role":"assistant","content":null,"tool_calls":[]},
                  {"role":"user","content":"1"}],
                 "max_tokens":7,"stream":true,"stream_options":{"include_usage":true},"temperature":0.2}""")
                .request();

        assertThat(request).isEqualTo(new CompletionRequest(CHAT, "m", 4, OptionalInt.of(7), true, true, PromptBlocks.NONE));
    }

    @Test
    void chat_countsAtLeastOneTokenAndDefaultsToNoLimitNoStream() {
        CompletionRequest request = parse(CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\"}]}")
                .request();

        assertThat(request).isEqualTo(new CompletionRequest(CHAT, "m", 1, OptionalInt.empty(), false, false, PromptBlocks.NONE));
    }

    @Test
    void maxCompletionTokens_takesPrecedenceOverMaxTokens() {
        CompletionRequest request = parse(CHAT, """
                {"model":"m","messages":[{"role":"user","content":"hi"}],
                 "max_tokens":100,"max_completion_tokens":5}""").request();

        assertThat(request.maxTokens()).hasValue(5);
    }

    @Test
    void text_acceptsStringsTokenIdsAndTokenArraysAsOnePrompt() {
        assertThat(parse(TEXT, "{\"model\":\"m\",\"prompt\":\"12345\"}").request().promptTokens()).isEqualTo(2);
        assertThat(parse(TEXT, "{\"model\":\"m\",\"prompt\":[\"1234\",\"1234\"]}").request().promptTokens())
                .isEqualTo(2);
        assertThat(parse(TEXT, "{\"model\":\"m\",\"prompt\":[[1,2,3],[4]]}").request().promptTokens())
                .isEqualTo(4);
        assertThat(parse(TEXT, "{\"model\":\"m\",\"prompt\":[1,2]}").request().promptTokens()).isEqualTo(2);
    }

    @Test
    void parse_collectsEveryProblemWithItsFieldPath() {
        CompletionRequestParser.Result result = parse(CHAT, """
                {"messages":[{"role":"user","content":"hi"},{"content":5},"x"],
                 "max_tokens":"ten","stream":"yes","stream_options":{"include_usage":1}}""");

        assertThat(result.request()).isNull();
        assertThat(result.problems()).containsExactly(
                new Problem("model", "model: missing (expected: a non-blank string)"),
                new Problem("messages", "messages[1].role: missing (expected: a string)"),
                new Problem("messages",
                        "messages[1].content: 5 (expected: a string or an array of content parts)"),
                new Problem("messages", "messages[2]: \"x\" (expected: an object)"),
                new Problem("max_tokens", "max_tokens: \"ten\" (expected: an integer >= 1)"),
                new Problem("stream", "stream: \"yes\" (expected: a boolean)"),
                new Problem("stream_options.include_usage",
                        "stream_options.include_usage: 1 (expected: a boolean)"));
    }

    @Test
    void parse_rejectsNonPositiveAndFractionalLimits() {
        assertThat(problems(CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"u\",\"content\":\"\"}],\"max_tokens\":-1}"))
                .containsExactly(new Problem("max_tokens", "max_tokens: -1 (expected: an integer >= 1)"));
        assertThat(problems(CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"u\",\"content\":\"\"}],"
                + "\"max_completion_tokens\":2.5}"))
                .containsExactly(new Problem("max_completion_tokens",
                        "max_completion_tokens: 2.5 (expected: an integer >= 1)"));
    }

    @Test
    void parse_rejectsMissingOrMistypedPromptFields() {
        assertThat(problems(CHAT, "{\"model\":\"m\",\"messages\":\"hi\"}")).containsExactly(new Problem("messages",
                "messages: \"hi\" (expected: a non-empty array of message objects)"));
        assertThat(problems(CHAT, "{\"model\":\"m\",\"messages\":[]}")).containsExactly(new Problem("messages",
                "messages: an empty array (expected: a non-empty array of message objects)"));
        assertThat(problems(TEXT, "{\"model\":\"m\"}")).containsExactly(new Problem("prompt",
                "prompt: missing (expected: a string or a non-empty array of strings or token ids)"));
        assertThat(problems(TEXT, "{\"model\":\"m\",\"prompt\":[\"a\",{}]}")).containsExactly(new Problem("prompt",
                "prompt[1]: an object (expected: a string, a token id or an array of token ids)"));
    }

    @Test
    void parse_reportsMalformedJsonWithLineAndColumn() {
        assertThat(problems(CHAT, "{\"model\":\"m\",\n \"messages\": [}").get(0).message())
                .startsWith("request body: malformed JSON at line 2, column 15: ");
        assertThat(problems(CHAT, "{\"model\":\"m\"} trailing").get(0).message())
                .startsWith("request body: malformed JSON at line 1, column ");
    }

    @Test
    void parse_rejectsEmptyBodyAndNonObjectRoot() {
        assertThat(problems(CHAT, " \n")).containsExactly(
                new Problem(null, "request body: empty (expected: a JSON object)"));
        assertThat(problems(TEXT, "[1]")).containsExactly(
                new Problem(null, "request body: an array (expected: a JSON object)"));
    }

    @Test
    void describe_shortensLongStrings() {
        String prompt = "x".repeat(100);

        assertThat(problems(TEXT, "{\"model\":\"m\",\"prompt\":\"p\",\"stream\":\"" + prompt + "\"}").get(0).message())
                .isEqualTo("stream: \"" + "x".repeat(40) + "...\" (expected: a boolean)");
    }

    private static CompletionRequestParser.Result parse(CompletionRequest.Kind kind, String body) {
        return CompletionRequestParser.parse(kind, body.getBytes(UTF_8), 16);
    }

    private static java.util.List<Problem> problems(CompletionRequest.Kind kind, String body) {
        CompletionRequestParser.Result result = parse(kind, body);
        assertThat(result.request()).isNull();
        return result.problems();
    }
}
