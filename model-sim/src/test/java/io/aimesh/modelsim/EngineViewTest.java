package io.aimesh.modelsim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Hand-computed replays with the default profile: a step is 0.1 ms per prefilled token + 12 ms + 0.5 ms per sequence. */
class EngineViewTest {
    private static final long MS = 1_000_000;
    private static final long NOW = 1_000 * MS;
    private static final EngineView.Limits TWO_SLOTS = new EngineView.Limits(GpuProfile.DEFAULT, 1, 2, 1_000, 1, 20 * MS);

    @Test
    void anIdleEngine_startsTheRequestAtOnce() {
        EngineView.Seq request = new EngineView.Seq(5, 100, 7, null);

        // 10 ms of prefill + 12 + 0.5.
        assertThat(EngineView.IDLE.predictTtftNanos(TWO_SLOTS, NOW, request)).isEqualTo(22_500_000);
    }

    @Test
    void aFullBatch_makesTheRequestWaitForItsFirstFreeSlot() {
        // Both slots taken, 3 and 5 tokens to go before the step under way, which ends in 5 ms.
        EngineView view = new EngineView(NOW + 5 * MS, List.of(new EngineView.Seq(3, 0, 1, null), new EngineView.Seq(5, 0, 1, null)),
                List.of(), 2, Set.of());

        // 5 ms to the deadline (then 2 and 4 left), two steps of 13 ms (the first sequence ends), then the
        // request's step: 10 + 12 + 1 = 23 ms. 5 + 13 + 13 + 23 = 54 ms.
        assertThat(view.predictTtftNanos(TWO_SLOTS, NOW, new EngineView.Seq(1, 100, 7, null))).isEqualTo(54 * MS);
    }

    @Test
    void aRequestWhoseAdapterHasNoSlot_waitsForTheBatchToFreeIt_andPaysTheLoad() {
        // One adapter slot, used by a running sequence of "a" with 2 tokens to go; no step under way.
        EngineView view = new EngineView(0, List.of(new EngineView.Seq(2, 0, 1, "a")), List.of(), 1, Set.of("a"));

        // Two steps of 12.5 ms until "a" is done, then "b" loads (20 ms) with 1 ms of prefill: 12 + 0.5 + 1 + 20.
        assertThat(view.predictTtftNanos(TWO_SLOTS, NOW, new EngineView.Seq(1, 10, 1, "b"))).isEqualTo(25 * MS + 33_500_000);
        // The base model skips past it: it joins "a"'s batch at once, two sequences, 1 ms of prefill.
        assertThat(view.predictTtftNanos(TWO_SLOTS, NOW, new EngineView.Seq(1, 10, 1, null))).isEqualTo(14 * MS);
    }

    @Test
    void theQueueAhead_goesFirst() {
        EngineView.Limits oneSlot = new EngineView.Limits(GpuProfile.DEFAULT, 1, 1, 1_000, 1, 0);
        EngineView view = new EngineView(0, List.of(), List.of(new EngineView.Seq(2, 50, 1, null)), 0, Set.of());

        // The waiting one: 5 + 12.5 ms, then its second token 12.5 ms; then ours: 12.5 ms.
        assertThat(view.predictTtftNanos(oneSlot, NOW, new EngineView.Seq(1, 0, 1, null))).isEqualTo(42_500_000);
    }

    @Test
    void aServerPredicts_forRequestsItWouldServe_only() throws Exception {
        try (ModelSimServer server = ModelSimServer.start(ModelSimConfig.builder().model("m").speed(10).build())) {
            String chat = "{\"model\":\"%s\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}";

            long ttft = server.predictTtftNanos(chat.formatted("m", "x".repeat(400)).getBytes(java.nio.charset.StandardCharsets.UTF_8));

            // Idle: 100 prompt tokens of prefill (10 ms) + 12.5 ms, at speed 10.
            assertThat(ttft).isEqualTo(2_250_000);
            assertThat(server.predictTtftNanos(chat.formatted("other", "hi").getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                    .isEqualTo(Long.MAX_VALUE);
            assertThat(server.predictTtftNanos("{".getBytes(java.nio.charset.StandardCharsets.UTF_8))).isEqualTo(Long.MAX_VALUE);
        }
    }
}
