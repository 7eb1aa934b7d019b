package io.aimesh.filter.extproc;

import com.google.protobuf.ByteString;
import io.aimesh.filter.body.SseUsageScanner;
import io.aimesh.filter.body.Usage;
import io.aimesh.filter.body.UsageReader;
import java.nio.ByteBuffer;

/**
 * Reads a model server's response for its usage: a JSON body, gathered from its chunks, or an
 * SSE stream, chunk by chunk, hiding the usage event from a client that did
 * not ask for it. Confined to one request's stream.
 */
final class ResponseReader {
    /** A JSON body bigger than this is passed on without its usage being read. */
    private static final int MAX_JSON_BYTES = 16 << 20;

    private final SseUsageScanner scanner;
    private ByteString json = ByteString.EMPTY;
    private Usage usage;

    /**
     * @param sse whether the response is an event stream
     * @param hideUsage whether the usage event must not reach the client (the filter asked for it)
     */
    ResponseReader(boolean sse, boolean hideUsage) {
        this.scanner = sse ? SseUsageScanner.of(hideUsage) : null;
    }

    /** Reads a body message; returns its replacement, or {@code null} to pass it unchanged. */
    ByteString read(ByteString chunk, boolean endOfStream) {
        if (scanner == null) {
            if (json != null) {
                json = json.size() + chunk.size() > MAX_JSON_BYTES ? null : json.concat(chunk); // a rope: no copy
            }
            if (endOfStream && json != null) {
                usage = UsageReader.fromJson(json.toByteArray()).orElse(null);
            }
            return null;
        }
        ByteBuffer in = chunk.asReadOnlyByteBuffer();
        ByteBuffer out = scanner.scan(in, endOfStream);
        if (out == in) {
            return null;
        }
        usage = scanner.usage().orElse(usage);
        return ByteString.copyFrom(out);
    }

    /** The usage the model server reported, or {@code null}. */
    Usage usage() {
        return scanner == null ? usage : scanner.usage().orElse(null);
    }

    /** Output tokens counted in the stream (one per content delta), the fallback when no usage came. */
    long streamedTokens() {
        return scanner == null ? 0 : scanner.contentDeltas();
    }
}
