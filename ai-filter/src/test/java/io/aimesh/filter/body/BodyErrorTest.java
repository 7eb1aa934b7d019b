package io.aimesh.filter.body;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class BodyErrorTest {

    @Test
    void toJson_rendersOpenAisErrorShape_withNulls() {
        BodyError error = BodyError.invalid(400, null, "request body: empty (expected: a JSON object)");

        assertThat(error.toJson()).isEqualTo("{\"error\":{\"message\":\"request body: empty (expected: a JSON object)\","
                + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
    }

    @Test
    void toJson_escapesQuotesBackslashesAndControlCharacters() throws Exception {
        String message = "a \"quoted\" \\ back\nslash\t\u0001 caf\u00e9 \u2028 \ud83d\ude00";
        BodyError error = new BodyError(413, message, "invalid_request_error", "messages[0].content", "too_big");

        JsonNode json = new ObjectMapper().readTree(error.toJson());

        assertThat(error.toJson()).contains("a \\\"quoted\\\" \\\\ back\\nslash\\t\\u0001");
        assertThat(json.at("/error/message").asText()).isEqualTo(message);
        assertThat(json.at("/error/type").asText()).isEqualTo("invalid_request_error");
        assertThat(json.at("/error/param").asText()).isEqualTo("messages[0].content");
        assertThat(json.at("/error/code").asText()).isEqualTo("too_big");
    }

    @Test
    void new_rejectsAStatusThatIsNotAnError() {
        assertThatThrownBy(() -> new BodyError(200, "m", "t", null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("status: 200 (expected: 400 to 599)");
    }
}
