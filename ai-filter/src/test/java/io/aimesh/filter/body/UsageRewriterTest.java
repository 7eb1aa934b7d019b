package io.aimesh.filter.body;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class UsageRewriterTest {

    private static final RequestBodyParser PARSER = RequestBodyParser.of(1 << 16);

    private static String rewrite(String body) {
        byte[] bytes = body.getBytes(UTF_8);
        ParsedRequest request = (ParsedRequest) PARSER.parse(RequestKind.CHAT, null, bytes);
        return UsageRewriter.rewrite(request, bytes).map(b -> new String(b, UTF_8)).orElse(null);
    }

    static Stream<Arguments> rewrites() {
        String messages = "\"messages\":[{\"role\":\"user\"}]";
        return Stream.of(
                // No stream_options: inserted before the closing brace; the whitespace stays.
                arguments("{\"model\":\"m\",\"stream\":true," + messages + "}",
                        "{\"model\":\"m\",\"stream\":true," + messages + ",\"stream_options\":{\"include_usage\":true}}"),
                arguments("{ \"stream\" : true , \"model\" : \"m\", " + messages + "\n}\n",
                        "{ \"stream\" : true , \"model\" : \"m\", " + messages
                                + "\n,\"stream_options\":{\"include_usage\":true}}\n"),
                // A stream_options below the top level is not the request's.
                arguments("{\"metadata\":{\"stream_options\":null},\"model\":\"m\",\"stream\":true," + messages + "}",
                        "{\"metadata\":{\"stream_options\":null},\"model\":\"m\",\"stream\":true," + messages
                                + ",\"stream_options\":{\"include_usage\":true}}"),
                // A null stream_options becomes the object.
                arguments("{\"model\":\"m\",\"stream_options\":null,\"stream\":true," + messages + "}",
                        "{\"model\":\"m\",\"stream_options\":{\"include_usage\":true},\"stream\":true," + messages + "}"),
                // An empty object gets the field.
                arguments("{\"model\":\"m\",\"stream\":true,\"stream_options\":{ }," + messages + "}",
                        "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true }," + messages + "}"),
                // Other options are kept.
                arguments("{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"continuous_usage_stats\":false}," + messages + "}",
                        "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true,"
                                + "\"continuous_usage_stats\":false}," + messages + "}"),
                // include_usage false or null: the literal becomes true.
                arguments("{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"x\":[1],\"include_usage\":false}," + messages + "}",
                        "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"x\":[1],\"include_usage\":true}," + messages + "}"),
                arguments("{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\" : null}," + messages + "}",
                        "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\" : true}," + messages + "}"));
    }

    @ParameterizedTest
    @MethodSource("rewrites")
    void rewrite_setsIncludeUsage_keepingEveryOtherByte(String body, String expected) {
        assertThat(rewrite(body)).isEqualTo(expected);
    }

    @Test
    void rewrite_findsByteOffsetsAfterMultiByteCharacters() {
        String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"caf\u00e9 \ud83d\ude00 \\u00e9\"}],"
                + "\"stream\":true,\"stream_options\":{\"include_usage\":false}}";

        assertThat(rewrite(body)).isEqualTo(body.replace("false", "true"));
    }

    @Test
    void rewrite_givesABodyThatParsesToTheSameRequest_askingForUsage() {
        String body = "{\"model\":\"m\",\"stream\":true,\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        ParsedRequest before = (ParsedRequest) PARSER.parse(RequestKind.CHAT, null, body.getBytes(UTF_8));

        BodyParseResult after = PARSER.parse(RequestKind.CHAT, null, rewrite(body).getBytes(UTF_8));

        assertThat(after).isEqualTo(new ParsedRequest(before.kind(), before.model(), true, true, before.maxTokens(),
                before.promptTexts(), 0, 1, 0));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}",
        "{\"model\":\"m\",\"stream\":false,\"stream_options\":{\"include_usage\":false},\"messages\":[{\"role\":\"user\"}]}",
        "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\"}]}"})
    void rewrite_leavesAloneRequestsThatAreNotStreamedOrAlreadyAskForUsage(String body) {
        assertThat(rewrite(body)).isNull();
    }

    @Test
    void rewrite_rejectsABodyThatIsNotTheOneParsed() {
        byte[] body = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\"}]}".getBytes(UTF_8);
        ParsedRequest request = (ParsedRequest) PARSER.parse(RequestKind.CHAT, null, body);

        assertThatThrownBy(() -> UsageRewriter.rewrite(request, "[1]".getBytes(UTF_8)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("body: not the body the request was parsed from");
        assertThatThrownBy(() -> UsageRewriter.rewrite(request, "{\"stream_options\":{\"include_usage\":true}}".getBytes(UTF_8)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> UsageRewriter.rewrite(request, "{".getBytes(UTF_8)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasCauseInstanceOf(com.fasterxml.jackson.core.JsonProcessingException.class);
    }
}
