package io.aimesh.filter.body;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SseUsageScannerTest {

    private static final String HEAD = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
            + "\"model\":\"llama\",";
    private static final String ROLE = HEAD
            + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n";
    private static final String FINISH = HEAD
            + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n";
    private static final String USAGE = HEAD
            + "\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}\n\n";
    private static final String DONE = "data: [DONE]\n\n";
    private static final Usage EXPECTED_USAGE = new Usage(12, 3, 15);

    private static String content(String text) {
        return HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"},\"finish_reason\":null}],"
                + "\"usage\":null}\n\n";
    }

    /** The streams every property is checked on: event lists, with the index of the usage event. */
    private static final List<List<String>> STREAMS = List.of(
            List.of(ROLE, content("Hel"), content("lo \\n\\n w\u00f6rld \ud83d\ude00"), content("!"), FINISH, USAGE, DONE),
            // comments, other fields, a data field split over two lines, CRLF line ends
            List.of(": ping\n\n", "event: message\nid: 7\n" + content("a"), "data: {\"choices\":[{\"delta\":\n"
                    + "data: {\"content\":\"b\"}}]}\r\n\r\n", USAGE.replace("\n", "\r\n"), DONE.replace("\n", "\r\n")),
            // a legacy completion, usage before DONE, mixed line ends
            List.of("data:{\"choices\":[{\"text\":\"x\",\"index\":0}]}\n\r\n", "data: {\"choices\":[{\"text\":\"\"}]}\n\n",
                    "data: {\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15},\"choices\":[]}\n\n",
                    DONE));
    private static final long[] CONTENT_DELTAS = {3, 2, 1};

    enum Buffers {
        HEAP, READ_ONLY, DIRECT, OFFSET;

        ByteBuffer wrap(byte[] bytes, int from, int to) {
            switch (this) {
                case HEAP:
                    return ByteBuffer.wrap(Arrays.copyOfRange(bytes, from, to));
                case READ_ONLY:
                    return ByteBuffer.wrap(Arrays.copyOfRange(bytes, from, to)).asReadOnlyBuffer();
                case DIRECT:
                    return ByteBuffer.allocateDirect(to - from).put(bytes, from, to - from).flip();
                default:
                    // a slice of a larger array, positioned past a prefix, as a gRPC buffer may be
                    byte[] padded = new byte[to - from + 10];
                    System.arraycopy(bytes, from, padded, 7, to - from);
                    return ByteBuffer.wrap(padded, 7, to - from).slice().position(0);
            }
        }
    }

    private static String join(List<String> events, boolean withoutUsage) {
        StringBuilder stream = new StringBuilder();
        for (String event : events) {
            if (!(withoutUsage && event.contains("\"usage\":{"))) {
                stream.append(event);
            }
        }
        return stream.toString();
    }

    /** Scans {@code stream} cut at {@code cuts}; returns what went out. */
    private static byte[] scan(SseUsageScanner scanner, byte[] stream, int[] cuts, Buffers buffers) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : stream.length;
            ByteBuffer chunk = buffers.wrap(stream, from, to);
            int position = chunk.position();
            ByteBuffer result = scanner.scan(chunk, i == cuts.length);
            assertThat(chunk.position()).isEqualTo(position);
            byte[] bytes = new byte[result.remaining()];
            result.duplicate().get(bytes);
            out.writeBytes(bytes);
            from = to;
        }
        return out.toByteArray();
    }

    private static void assertScanned(int streamIndex, boolean hide, int[] cuts, Buffers buffers) {
        List<String> events = STREAMS.get(streamIndex);
        byte[] stream = join(events, false).getBytes(UTF_8);
        SseUsageScanner scanner = SseUsageScanner.of(hide);

        byte[] out = scan(scanner, stream, cuts, buffers);

        assertThat(new String(out, UTF_8)).as("stream %d cut at %s", streamIndex, Arrays.toString(cuts))
                .isEqualTo(join(events, hide));
        assertThat(scanner.usage()).contains(EXPECTED_USAGE);
        assertThat(scanner.contentDeltas()).isEqualTo(CONTENT_DELTAS[streamIndex]);
        assertThat(scanner.sawDone()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Buffers.class)
    void scan_splitAtEveryByte_outputsTheStreamLessTheUsageEvent_andReadsTheUsage(Buffers buffers) {
        for (int s = 0; s < STREAMS.size(); s++) {
            int length = join(STREAMS.get(s), false).getBytes(UTF_8).length;
            for (int cut = 0; cut <= length; cut++) {
                assertScanned(s, true, new int[] {cut}, buffers);
                assertScanned(s, false, new int[] {cut}, buffers);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Buffers.class)
    void scan_splitAtRandomBytes_outputsTheStreamLessTheUsageEvent_andReadsTheUsage(Buffers buffers) {
        Random random = new Random(42);
        for (int run = 0; run < 500; run++) {
            int s = random.nextInt(STREAMS.size());
            int length = join(STREAMS.get(s), false).getBytes(UTF_8).length;
            int[] cuts = new int[1 + random.nextInt(12)];
            for (int i = 0; i < cuts.length; i++) {
                cuts[i] = random.nextInt(length + 1);
            }
            Arrays.sort(cuts); // equal cuts make empty chunks, which must pass too
            assertScanned(s, random.nextBoolean(), cuts, buffers);
        }
    }

    @Test
    void scan_returnsTheSameChunk_whenItEndsOnAnEventBoundary() {
        ByteBuffer chunk = ByteBuffer.wrap((ROLE + content("a") + content("b")).getBytes(UTF_8));

        assertThat(SseUsageScanner.of(true).scan(chunk, false)).isSameAs(chunk);
        assertThat(SseUsageScanner.of(false).scan(chunk, false)).isSameAs(chunk);
    }

    @Test
    void scan_withoutHiding_returnsEveryChunkAsItCame_evenMidEvent() {
        SseUsageScanner scanner = SseUsageScanner.of(false);
        byte[] stream = (content("a") + USAGE + DONE).getBytes(UTF_8);
        ByteBuffer first = ByteBuffer.wrap(stream, 0, 100).slice();
        ByteBuffer second = ByteBuffer.wrap(stream, 100, stream.length - 100).slice();

        assertThat(scanner.scan(first, false)).isSameAs(first);
        assertThat(scanner.scan(second, true)).isSameAs(second);
        assertThat(scanner.usage()).contains(EXPECTED_USAGE);
    }

    @Test
    void scan_holdsBackOnlyTheUnfinishedTrailingEvent() {
        SseUsageScanner scanner = SseUsageScanner.of(true);
        String next = content("b");

        ByteBuffer first = scanner.scan(ByteBuffer.wrap((ROLE + next.substring(0, 20)).getBytes(UTF_8)), false);
        ByteBuffer second = scanner.scan(ByteBuffer.wrap(next.substring(20).getBytes(UTF_8)), false);

        assertThat(UTF_8.decode(first).toString()).isEqualTo(ROLE);
        assertThat(UTF_8.decode(second).toString()).isEqualTo(next);
    }

    @Test
    void scan_removesTheUsageEventOnly_whenHiding() {
        SseUsageScanner hiding = SseUsageScanner.of(true);
        SseUsageScanner showing = SseUsageScanner.of(false);
        byte[] stream = (FINISH + USAGE + DONE).getBytes(UTF_8);

        assertThat(UTF_8.decode(hiding.scan(ByteBuffer.wrap(stream), true)).toString()).isEqualTo(FINISH + DONE);
        assertThat(UTF_8.decode(showing.scan(ByteBuffer.wrap(stream), true)).toString()).isEqualTo(FINISH + USAGE + DONE);
        assertThat(hiding.usage()).contains(EXPECTED_USAGE);
        assertThat(showing.usage()).contains(EXPECTED_USAGE);
    }

    @Test
    void scan_removesAUsageEventWithoutAChoicesField() {
        SseUsageScanner scanner = SseUsageScanner.of(true);
        String usage = "data: {\"id\":\"x\",\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":1,\"total_tokens\":5}}\n\n";

        ByteBuffer out = scanner.scan(ByteBuffer.wrap((FINISH + usage + DONE).getBytes(UTF_8)), true);

        assertThat(UTF_8.decode(out).toString()).isEqualTo(FINISH + DONE);
        assertThat(scanner.usage()).contains(new Usage(4, 1, 5));
    }

    @Test
    void scan_treatsAnUnterminatedLastEventAsComplete() {
        SseUsageScanner scanner = SseUsageScanner.of(true);
        String usage = USAGE.strip();

        ByteBuffer out = scanner.scan(ByteBuffer.wrap((content("a") + usage).getBytes(UTF_8)), false);
        ByteBuffer end = scanner.scan(ByteBuffer.wrap("\n".getBytes(UTF_8)), true);

        assertThat(UTF_8.decode(out).toString()).isEqualTo(content("a"));
        assertThat(end.remaining()).isZero();
        assertThat(scanner.usage()).contains(EXPECTED_USAGE);
    }

    @Test
    void scan_flushesHeldBytesAtTheEndOfTheStream() {
        SseUsageScanner scanner = SseUsageScanner.of(true);

        ByteBuffer first = scanner.scan(ByteBuffer.wrap("data: [DO".getBytes(UTF_8)), false);
        ByteBuffer last = scanner.scan(ByteBuffer.allocate(0), true);

        assertThat(first.remaining()).isZero();
        assertThat(UTF_8.decode(last).toString()).isEqualTo("data: [DO");
        assertThat(scanner.sawDone()).isFalse();
    }

    @Test
    void scan_passesANonSseBodyUnchanged() {
        SseUsageScanner scanner = SseUsageScanner.of(true);
        String error = "{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}";

        ByteBuffer held = scanner.scan(ByteBuffer.wrap(error.getBytes(UTF_8)), false);
        ByteBuffer flushed = scanner.scan(ByteBuffer.allocate(0), true);

        assertThat(held.remaining()).isZero();
        assertThat(UTF_8.decode(flushed).toString()).isEqualTo(error);
        assertThat(scanner.usage()).isEmpty();
        assertThat(scanner.contentDeltas()).isZero();
    }

    @Test
    void scan_keepsChunksWithUsageAndChoices_asVllmsContinuousUsageSends() {
        SseUsageScanner scanner = SseUsageScanner.of(true);
        String first = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n\n";
        String second = "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n";
        ByteBuffer chunk = ByteBuffer.wrap((first + second).getBytes(UTF_8));

        assertThat(scanner.scan(chunk, true)).isSameAs(chunk);
        assertThat(scanner.usage()).contains(new Usage(5, 2, 7));
        assertThat(scanner.contentDeltas()).isEqualTo(2);
    }

    @Test
    void scan_countsEveryKindOfOutputDelta_butNotEmptyOnes() {
        SseUsageScanner scanner = SseUsageScanner.of(false);
        String stream = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n"
                + "data: {\"choices\":[{\"delta\":{\"content\":\"\"}}]}\n\n"
                + "data: {\"choices\":[{\"delta\":{\"content\":null}}]}\n\n"
                + "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"hmm\"}}]}\n\n"
                + "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}\n\n"
                + "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\\\"\"}}]}}]}\n\n"
                + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}},{\"index\":1,\"delta\":{\"content\":\"y\"}}]}\n\n"
                + "data: {\"choices\":[{\"text\":\"z\"}]}\n\n";

        scanner.scan(ByteBuffer.wrap(stream.getBytes(UTF_8)), true);

        assertThat(scanner.contentDeltas()).isEqualTo(5);
        assertThat(scanner.usage()).isEmpty();
        assertThat(scanner.sawDone()).isFalse();
    }

    @Test
    void scan_letsMalformedEventsThrough_countingNothing() {
        SseUsageScanner scanner = SseUsageScanner.of(true);
        String stream = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":{\"prompt_tokens\":1}\n\n"
                + "data: not json\n\ndata: [1,2]\n\ndata:\n\nretry: 10\n\ndata: \u0000\u0000\u0000{}\n\n";
        ByteBuffer chunk = ByteBuffer.wrap(stream.getBytes(UTF_8));

        assertThat(scanner.scan(chunk, true)).isSameAs(chunk);
        assertThat(scanner.usage()).isEmpty();
        assertThat(scanner.contentDeltas()).isZero();
    }

    @Test
    void scan_letsAnOversizedEventStreamThrough_insteadOfHoldingItAll() {
        SseUsageScanner scanner = SseUsageScanner.of(true);
        String huge = content("x".repeat(SseUsageScanner.MAX_EVENT_BYTES + 30_000));
        byte[] stream = (huge + USAGE + DONE).getBytes(UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Boolean> passedAsIs = new ArrayList<>();

        for (int from = 0; from < stream.length; from += 1000) {
            int to = Math.min(stream.length, from + 1000);
            ByteBuffer chunk = ByteBuffer.wrap(stream, from, to - from).slice();
            ByteBuffer result = scanner.scan(chunk, to == stream.length);
            passedAsIs.add(result == chunk);
            byte[] bytes = new byte[result.remaining()];
            result.get(bytes);
            out.writeBytes(bytes);
        }

        assertThat(new String(out.toByteArray(), UTF_8)).isEqualTo(huge + DONE);
        // Once past the limit (in chunk 65, bytes 65,000 to 66,000), the event's chunks go out as they come.
        assertThat(passedAsIs.subList(66, huge.length() / 1000)).containsOnly(true);
        assertThat(scanner.contentDeltas()).isZero(); // too large to be parsed
        assertThat(scanner.usage()).contains(EXPECTED_USAGE);
    }

    @Test
    void scan_skipsAByteOrderMarkBeforeTheFirstEvent() {
        SseUsageScanner scanner = SseUsageScanner.of(false);
        byte[] event = content("a").getBytes(UTF_8);
        byte[] stream = new byte[event.length + 3];
        stream[0] = (byte) 0xEF;
        stream[1] = (byte) 0xBB;
        stream[2] = (byte) 0xBF;
        System.arraycopy(event, 0, stream, 3, event.length);

        scanner.scan(ByteBuffer.wrap(stream), true);

        assertThat(scanner.contentDeltas()).isEqualTo(1);
    }

    @Test
    void scan_rejectsChunksAfterTheEndOfTheStream() {
        SseUsageScanner scanner = SseUsageScanner.of(true);
        scanner.scan(ByteBuffer.wrap(DONE.getBytes(UTF_8)), true);

        assertThatThrownBy(() -> scanner.scan(ByteBuffer.allocate(0), true))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("scan after the end of the stream");
    }
}
