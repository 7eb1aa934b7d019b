package io.aimesh.filter.body;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

/**
 * Fuzzes the SSE scanner: whatever the bytes and however they are cut into chunks, it never
 * throws, the result does not depend on the cuts (the same output, usage, delta count and DONE as
 * one whole chunk gives), nothing is added, and without hiding nothing changes. The first input
 * byte picks hiding (odd: {@code 1}) or not ({@code 0}); the rest is the stream, and the cuts are
 * drawn from a {@link Random} seeded with the input's hash. In CI this replays the seed corpus in
 * {@code SseUsageScannerFuzzTestInputs}; {@code JAZZER_FUZZ=1 mvn -pl ai-filter test
 * -Dtest=SseUsageScannerFuzzTest} fuzzes for real.
 */
class SseUsageScannerFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void scan_neverThrows_andDoesNotDependOnChunking(byte[] input) {
        if (input.length == 0) {
            return;
        }
        boolean hide = (input[0] & 1) == 1;
        byte[] stream = Arrays.copyOfRange(input, 1, input.length);
        SseUsageScanner whole = SseUsageScanner.of(hide);
        SseUsageScanner chunked = SseUsageScanner.of(hide);

        byte[] wholeOut = bytes(whole.scan(ByteBuffer.wrap(stream).asReadOnlyBuffer(), true));
        byte[] chunkedOut = scanInChunks(chunked, stream, new Random(Arrays.hashCode(input)));

        assertThat(chunkedOut).isEqualTo(wholeOut);
        assertThat(chunked.usage()).isEqualTo(whole.usage());
        assertThat(chunked.contentDeltas()).isEqualTo(whole.contentDeltas());
        assertThat(chunked.sawDone()).isEqualTo(whole.sawDone());
        assertThat(wholeOut.length).isLessThanOrEqualTo(stream.length);
        if (!hide) {
            assertThat(wholeOut).isEqualTo(stream);
        }
    }

    private static byte[] scanInChunks(SseUsageScanner scanner, byte[] stream, Random random) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int from = 0;
        boolean end = false;
        while (!end) {
            int to = Math.min(stream.length, from + random.nextInt(64));
            end = to == stream.length && random.nextInt(4) != 0; // sometimes an empty last chunk
            ByteBuffer chunk = ByteBuffer.wrap(stream, from, to - from).slice();
            out.writeBytes(bytes(scanner.scan(random.nextBoolean() ? chunk : chunk.asReadOnlyBuffer(), end)));
            from = to;
        }
        return out.toByteArray();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }
}
