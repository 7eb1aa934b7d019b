package io.aimesh.bench.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class WorkloadTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int COUNT = 2_000;

    private static JsonNode messages(Workload.Request request) {
        try {
            return JSON.readTree(request.body()).get("messages");
        } catch (java.io.IOException e) {
            throw new AssertionError(request.body(), e);
        }
    }

    @ParameterizedTest
    @EnumSource(Workload.class)
    void draw_isTheSameForTheSameSeed_andValidJsonAskingForItsOutput(Workload workload) throws Exception {
        List<Workload.Request> first = workload.draw("m", 200, 7);

        assertThat(workload.draw("m", 200, 7)).isEqualTo(first);
        assertThat(workload.draw("m", 200, 8)).isNotEqualTo(first);
        for (Workload.Request request : first) {
            JsonNode body = JSON.readTree(request.body());
            assertThat(body.get("max_tokens").asInt()).isEqualTo(request.outputTokens());
            assertThat(body.get("model").asText()).isEqualTo(request.model());
            assertThat(body.get("stream").asBoolean()).isTrue();
        }
    }

    @Test
    void chat_resendsEachConversationWhole_withTheAnswer_andOneNewUserMessage() {
        Map<String, List<JsonNode>> bySystemPrompt = new HashMap<>();
        for (Workload.Request request : Workload.CHAT.draw("m", COUNT, 3)) {
            JsonNode messages = messages(request);
            bySystemPrompt.computeIfAbsent(messages.get(0).get("content").asText(), k -> new ArrayList<>()).add(messages);
        }

        int followUps = 0;
        for (List<JsonNode> turns : bySystemPrompt.values()) {
            assertThat(turns.size()).isBetween(1, 12);
            for (int t = 1; t < turns.size(); t++) {
                JsonNode before = turns.get(t - 1);
                JsonNode now = turns.get(t);
                assertThat(now.size()).isEqualTo(before.size() + 2); // the answer, then a new question
                for (int m = 0; m < before.size(); m++) {
                    assertThat(now.get(m)).isEqualTo(before.get(m));
                }
                assertThat(now.get(before.size()).get("role").asText()).isEqualTo("assistant");
                followUps++;
            }
        }
        // 2 to 12 turns, mean about 6: most requests continue a conversation.
        assertThat(followUps).isGreaterThan(COUNT * 2 / 3);
    }

    @Test
    void systemPrompts_andAdapters_followZipfPopularity() {
        Map<String, Long> systems = Workload.SYSTEM_PROMPTS.draw("m", COUNT, 5).stream()
                .collect(Collectors.groupingBy(r -> messages(r).get(0).get("content").asText(), Collectors.counting()));
        Map<String, Long> adapters = Workload.LORA.draw("m", COUNT, 5).stream()
                .collect(Collectors.groupingBy(Workload.Request::model, Collectors.counting()));

        assertThat(systems).hasSize(6);
        assertThat(Workload.adapters("m")).containsAll(adapters.keySet());
        // Rank 1 of Zipf(s = 1): 1 / H(6) = 0.408 and 1 / H(16) = 0.296; 5 standard deviations of 2,000 draws.
        assertThat(max(systems) / (double) COUNT).isCloseTo(0.408, within(5 * Math.sqrt(0.408 * 0.592 / COUNT)));
        assertThat(max(adapters) / (double) COUNT).isCloseTo(0.296, within(5 * Math.sqrt(0.296 * 0.704 / COUNT)));
    }

    @Test
    void rag_putsTwoOrThreeDistinctDocumentsAfterTheSharedInstruction() {
        List<Workload.Request> requests = Workload.RAG.draw("m", 500, 9);
        String instruction = messages(requests.get(0)).get(0).get("content").asText();

        for (Workload.Request request : requests) {
            JsonNode messages = messages(request);
            assertThat(messages.get(0).get("content").asText()).isEqualTo(instruction);
            int contextTokens = messages.get(1).get("content").asText().length() / 4;
            assertThat(contextTokens).isBetween(2 * 700 + 4, 3 * 700 + 500);
        }
    }

    @Test
    void zipf_isCumulative_andEndsAtOne() {
        double[] cumulative = Workload.zipf(3, 1.0);

        // 1, 1/2, 1/3 over 11/6.
        assertThat(cumulative[0]).isCloseTo(6.0 / 11, within(1e-12));
        assertThat(cumulative[1]).isCloseTo(9.0 / 11, within(1e-12));
        assertThat(cumulative[2]).isCloseTo(1.0, within(1e-12));
    }

    private static long max(Map<String, Long> counts) {
        return counts.values().stream().mapToLong(Long::longValue).max().orElseThrow();
    }
}
