package io.aimesh.bench.spend;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aimesh.testing.AnswerUsage;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SpendRaceTest {
    @Test
    void prices_areTheSameForBothGateways_perMillionAndPerToken() {
        Prices prices = new Prices(100_000_000, 200_000_000);

        assertThat(prices.pricingYaml()).isEqualTo("{input: \"100.00\", output: \"200.00\"}");
        assertThat(prices.inputPerToken()).isEqualTo("0.0001");
        assertThat(prices.outputPerToken()).isEqualTo("0.0002");
        assertThat(prices.cost(11, 8)).as("11 × 100 + 8 × 200 micro-units").isEqualTo(2_700);
        assertThat(new Prices(150_000, 600_000).inputPerToken()).isEqualTo("0.00000015");
    }

    @Test
    void usage_isReadFromAnAnswer_orAStreamsLastUsageEvent_orMissing() throws Exception {
        assertThat(AnswerUsage.read("{\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":8,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":4}}}", false)).isEqualTo(new AnswerUsage(11, 4, 8));
        String stream = """
                data: {"choices":[{"delta":{"content":"a"}}],"usage":null}

                data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3}}

                data: [DONE]
                """;
        assertThat(AnswerUsage.read(stream, true)).isEqualTo(new AnswerUsage(12, 0, 3));
        assertThat(AnswerUsage.read("data: {\"choices\":[]}\n\ndata: [DONE]\n", true)).as("a stream without usage").isNull();
        assertThat(AnswerUsage.read("{\"error\":{}}", false)).isNull();
    }

    @Test
    void body_isSeeded_andStreamsAskForUsage() throws Exception {
        String first = SpendRace.body(new SplittableRandom(7), true);

        assertThat(SpendRace.body(new SplittableRandom(7), true)).isEqualTo(first);
        JsonNode json = new ObjectMapper().readTree(first);
        assertThat(json.path("stream_options").path("include_usage").asBoolean()).isTrue();
        assertThat(json.path("max_tokens").asInt()).isBetween(8, 64);
        assertThat(json.path("messages").get(0).path("content").asText().split(" ").length).isBetween(5, 40);
        assertThat(new ObjectMapper().readTree(SpendRace.body(new SplittableRandom(7), false)).has("stream")).isFalse();
    }
}
