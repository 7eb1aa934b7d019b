package io.aimesh.filter.body;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;

/**
 * Watches one streamed (server-sent events) response on its way to the client: records the usage
 * chunk, counts content deltas as a fallback when none comes, notes {@code data: [DONE]}, and,
 * when the filter asked for the usage on the client's behalf ({@link UsageRewriter}), removes the
 * usage event so the client sees the stream it asked for.
 *
 * <h2>Chunks</h2>
 * Envoy hands the body over in chunks that may split an event, a line, or a UTF-8 sequence
 * anywhere. Events end at a blank line ({@code \n\n}, {@code \r\n\r\n} or a mix); a lone
 * {@code \r} as line end, which the SSE spec allows but no OpenAI-compatible server sends, is not
 * recognized, so such a stream passes unchanged and yields no usage. Each complete event is parsed
 * as it completes; the bytes of an unfinished trailing event are copied aside to parse it once
 * its end arrives.
 *
 * <h2>Holding back</h2>
 * Without hiding, every chunk goes out unchanged (the same instance). When hiding, only the
 * unfinished trailing event of a chunk is held back, because it might be the usage event; it goes
 * out with the chunk that completes it, unless it is the usage event. That delays nothing the
 * client could use: an SSE client dispatches an event only once its blank line has arrived. Since
 * backends send one or more whole events per write, a chunk usually ends on an event boundary and
 * goes out as it came. An event that grows past {@value #MAX_EVENT_BYTES} bytes without ending is
 * not a usage event (those are a few hundred bytes): what is held of it goes out, the rest
 * streams through, and it is neither parsed nor removed; so memory stays bounded whatever the
 * backend sends. At the end of the stream the held bytes are flushed, and an event without its
 * blank line is treated as complete.
 *
 * <h2>What is removed</h2>
 * Exactly the bytes of each event whose JSON has a non-null {@code usage} object and no choices
 * (OpenAI's and vLLM's final usage chunk), trailing blank line included. With vLLM's continuous
 * usage stats every chunk carries a usage next to its choices: the usage is recorded (the last
 * one wins) but such chunks are never removed, since that would lose output.
 *
 * <p>Not thread-safe: Envoy sends the chunks of one stream in order, and one scanner serves one
 * response.
 */
public final class SseUsageScanner {

    static final int MAX_EVENT_BYTES = 64 * 1024;

    private static final byte[] BYTE_ORDER_MARK = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    private final boolean hideUsage;
    private final StreamEventReader reader = new StreamEventReader();

    /**
     * The bytes so far of the unfinished event, or scratch space for parsing an event copied out
     * of a read-only chunk.
     */
    private byte[] pending = new byte[512];
    private int pendingLength;
    /** Bytes the unfinished event has had so far; 0 between events. */
    private long eventBytes;
    /** Whether the unfinished event's bytes so far have gone out (always, unless hiding). */
    private boolean eventForwarded;
    /** Whether the unfinished event outgrew {@link #MAX_EVENT_BYTES}: no longer kept or parsed. */
    private boolean eventTooLarge;
    /** Whether the last byte seen ended a line; true before the first byte. */
    private boolean atLineStart = true;
    private boolean firstEvent = true;
    private boolean ended;

    private Usage usage;
    private long contentDeltas;
    private boolean sawDone;

    // What the chunk being scanned becomes; reset by each scan.
    private byte[] out;
    private int outLength;
    private int[] drops = new int[4];
    private int dropCount;

    private SseUsageScanner(boolean hideUsage) {
        this.hideUsage = hideUsage;
        this.eventForwarded = !hideUsage;
    }

    /**
     * A scanner for one response.
     *
     * @param hideUsage remove the usage event: the filter asked for it, the client did not
     *     ({@link ParsedRequest#needsUsageRequested()})
     */
    public static SseUsageScanner of(boolean hideUsage) {
        return new SseUsageScanner(hideUsage);
    }

    /**
     * Scans the next chunk of the body and returns what to send on in its place.
     *
     * @param chunk the bytes from its position to its limit; neither they nor its position are
     *     changed, and it is not retained
     * @param endOfStream whether this is the last chunk; held bytes are then flushed
     * @return {@code chunk} itself when it goes out unchanged (the common case, without a copy);
     *     otherwise a new buffer, which may share content with {@code chunk}
     * @throws IllegalStateException if called again after the end of the stream
     */
    public ByteBuffer scan(ByteBuffer chunk, boolean endOfStream) {
        requireNonNull(chunk, "chunk");
        if (ended) {
            throw new IllegalStateException("scan after the end of the stream");
        }
        ended = endOfStream;
        int from = chunk.position();
        int to = chunk.limit();
        out = null;
        outLength = 0;
        dropCount = 0;
        int eventStart = from;
        for (int i = from; i < to; i++) {
            byte b = chunk.get(i);
            if (b == '\n') {
                if (atLineStart) {
                    completeEvent(chunk, from, to, eventStart, i + 1);
                    eventStart = i + 1;
                }
                atLineStart = true;
            } else if (b != '\r') {
                atLineStart = false;
            }
        }
        int keepEnd = to;
        if (endOfStream) {
            if (eventStart < to || eventBytes > 0) {
                completeEvent(chunk, from, to, eventStart, to);
            }
        } else if (eventStart < to) {
            keepEnd = holdTrailing(chunk, from, to, eventStart);
        }
        return output(chunk, from, keepEnd);
    }

    /** The usage of the last usage chunk seen, if any. */
    public Optional<Usage> usage() {
        return Optional.ofNullable(usage);
    }

    /**
     * How many choice deltas carried output (content, reasoning or tool-call arguments; or text for
     * completions): about one token each, the output count to charge when no usage arrives.
     */
    public long contentDeltas() {
        return contentDeltas;
    }

    /** Whether {@code data: [DONE]} was seen: the backend finished the stream normally. */
    public boolean sawDone() {
        return sawDone;
    }

    /**
     * The event ending at {@code end} is complete: its bytes are those held from earlier chunks
     * plus {@code chunk[start, end)}. Parses it, and decides whether it goes out.
     */
    private void completeEvent(ByteBuffer chunk, int from, int to, int start, int end) {
        boolean open = eventBytes > 0;
        boolean held = open && !eventForwarded;
        boolean parsed = !eventTooLarge && pendingLength + (end - start) <= MAX_EVENT_BYTES;
        if (parsed) {
            parse(chunk, start, end, open);
        }
        if (hideUsage && parsed && reader.usageEvent && (held || !open)) {
            drop(start, end);
        } else if (held) {
            beginOutput(chunk, from, to);
        }
        pendingLength = 0;
        eventBytes = 0;
        eventForwarded = !hideUsage;
        eventTooLarge = false;
        firstEvent = false;
    }

    private void parse(ByteBuffer chunk, int start, int end, boolean open) {
        byte[] bytes;
        int offset;
        int length = end - start;
        if (open) {
            // Only the held bytes are in pending; if they were forwarded, pending still has them.
            ensurePending(pendingLength + length);
            chunk.get(start, pending, pendingLength, length);
            bytes = pending;
            offset = 0;
            length += pendingLength;
        } else if (chunk.hasArray()) {
            bytes = chunk.array();
            offset = chunk.arrayOffset() + start;
        } else {
            ensurePending(length);
            chunk.get(start, pending, 0, length);
            bytes = pending;
            offset = 0;
        }
        if (firstEvent && startsWithByteOrderMark(bytes, offset, length)) {
            offset += BYTE_ORDER_MARK.length;
            length -= BYTE_ORDER_MARK.length;
        }
        reader.read(bytes, offset, length);
        if (reader.usage != null) {
            usage = reader.usage;
        }
        contentDeltas += reader.contentDeltas;
        sawDone |= reader.done;
    }

    /** Keeps the unfinished trailing event {@code chunk[start, to)}; returns where the output ends. */
    private int holdTrailing(ByteBuffer chunk, int from, int to, int start) {
        int length = to - start;
        boolean held = eventBytes > 0 && !eventForwarded;
        eventBytes += length;
        if (!eventTooLarge && pendingLength + length <= MAX_EVENT_BYTES) {
            ensurePending(pendingLength + length);
            chunk.get(start, pending, pendingLength, length);
            pendingLength += length;
            return eventForwarded ? to : start;
        }
        // Too large to be a usage event: let it stream through.
        if (held) {
            beginOutput(chunk, from, to);
        }
        eventTooLarge = true;
        eventForwarded = true;
        pendingLength = 0;
        return to;
    }

    /** Starts a new output with the held bytes of the event open when the chunk began. */
    private void beginOutput(ByteBuffer chunk, int from, int to) {
        out = new byte[pendingLength + (to - from)];
        System.arraycopy(pending, 0, out, 0, pendingLength);
        outLength = pendingLength;
    }

    private void drop(int start, int end) {
        if (dropCount + 2 > drops.length) {
            drops = Arrays.copyOf(drops, drops.length * 2);
        }
        drops[dropCount++] = start;
        drops[dropCount++] = end;
    }

    /** {@code chunk[from, keepEnd)} less the dropped ranges, after the held bytes that go out. */
    private ByteBuffer output(ByteBuffer chunk, int from, int keepEnd) {
        if (out == null && dropCount == 0) {
            if (keepEnd == chunk.limit()) {
                return chunk;
            }
            ByteBuffer view = chunk.duplicate();
            view.limit(keepEnd);
            return view;
        }
        if (out == null) {
            out = new byte[keepEnd - from];
        }
        int copyFrom = from;
        for (int d = 0; d < dropCount; d += 2) {
            copy(chunk, copyFrom, Math.min(drops[d], keepEnd));
            copyFrom = Math.max(copyFrom, drops[d + 1]);
        }
        copy(chunk, copyFrom, keepEnd);
        ByteBuffer result = ByteBuffer.wrap(out, 0, outLength);
        out = null;
        return result;
    }

    private void copy(ByteBuffer chunk, int start, int end) {
        if (end > start) {
            chunk.get(start, out, outLength, end - start);
            outLength += end - start;
        }
    }

    private void ensurePending(int capacity) {
        if (pending.length < capacity) {
            pending = Arrays.copyOf(pending, Math.max(capacity, 2 * pending.length));
        }
    }

    private static boolean startsWithByteOrderMark(byte[] bytes, int offset, int length) {
        return length >= 3 && bytes[offset] == BYTE_ORDER_MARK[0] && bytes[offset + 1] == BYTE_ORDER_MARK[1]
                && bytes[offset + 2] == BYTE_ORDER_MARK[2];
    }
}
