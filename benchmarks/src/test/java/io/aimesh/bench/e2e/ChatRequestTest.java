package io.aimesh.bench.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChatRequestTest {
    @ParameterizedTest
    @ValueSource(ints = {ChatRequest.MIN_BODY_BYTES, 1024, 4096, 65_536})
    void body_isValidChatJsonOfExactlyTheSize(int size) throws Exception {
        String body = ChatRequest.body(size);

        assertThat(body.getBytes(StandardCharsets.UTF_8)).hasSize(size);
        JsonNode json = new ObjectMapper().readTree(body);
        assertThat(json.get("model").asText()).isEqualTo(ChatRequest.MODEL);
        assertThat(json.get("max_tokens").asInt()).isEqualTo(1);
        assertThat(json.get("messages").get(0).get("content").asText()).contains(" ");
        assertThat(ChatRequest.body(size)).as("same size, same body").isEqualTo(body);
    }

    @ParameterizedTest
    @ValueSource(ints = {1024, 4096})
    void http_declaresTheBodyLength(int size) {
        String request = new String(ChatRequest.http(size, "key"), StandardCharsets.US_ASCII);

        assertThat(request).startsWith("POST /v1/chat/completions HTTP/1.1\r\n")
                .contains("\r\ncontent-length: " + size + "\r\n", "\r\nauthorization: Bearer key\r\n")
                .endsWith("\r\n\r\n" + ChatRequest.body(size));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, ChatRequest.MIN_BODY_BYTES - 1})
    void body_refusesSizesBelowTheMinimum(int size) {
        assertThatThrownBy(() -> ChatRequest.body(size)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bodyBytes: " + size + " (expected: >= " + ChatRequest.MIN_BODY_BYTES + ")");
    }
}
