package io.aimesh.filter.body;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Reads one complete server-sent event of an OpenAI-style stream: its {@code data} lines joined
 * with newlines (the SSE rule), then {@code [DONE]} or the JSON of a {@code chat.completion.chunk}
 * or {@code text_completion} chunk. The results of the last {@link #read} are in the fields.
 * Not thread-safe: one per {@link SseUsageScanner}.
 */
final class StreamEventReader {

    private static final byte[] DATA = {'d', 'a', 't', 'a', ':'};
    private static final byte[] DONE = {'[', 'D', 'O', 'N', 'E', ']'};

    /** The data was {@code [DONE]}. */
    boolean done;
    /** The usage chunk: a non-null {@code usage} object and no choices, so removing it loses no output. */
    boolean usageEvent;
    /** The chunk's valid usage, or null. */
    Usage usage;
    /** Choices whose delta (or completion text) carries output. */
    int contentDeltas;

    private byte[] joined = new byte[0];

    /** Reads the event in {@code bytes[offset, offset + length)}, lines and trailing blank line included. */
    void read(byte[] bytes, int offset, int length) {
        done = false;
        usageEvent = false;
        usage = null;
        contentDeltas = 0;
        int end = offset + length;
        int dataStart = -1;
        int dataEnd = -1;
        int joinedLength = -1; // >= 0 once a second data line made the data non-contiguous
        for (int line = offset, next; line < end; line = next) {
            int newline = indexOf(bytes, line, end, (byte) '\n');
            next = newline < 0 ? end : newline + 1;
            int lineEnd = newline < 0 ? end : newline;
            if (lineEnd > line && bytes[lineEnd - 1] == '\r') {
                lineEnd--;
            }
            if (!startsWith(bytes, line, lineEnd, DATA)) {
                continue; // a comment, or a field the usage does not depend on (event, id, retry)
            }
            int valueStart = line + DATA.length;
            if (valueStart < lineEnd && bytes[valueStart] == ' ') {
                valueStart++;
            }
            if (dataStart < 0) {
                dataStart = valueStart;
                dataEnd = lineEnd;
            } else {
                joinedLength = join(bytes, dataStart, dataEnd, joinedLength, valueStart, lineEnd);
            }
        }
        if (joinedLength >= 0) {
            readData(joined, 0, joinedLength);
        } else if (dataStart >= 0) {
            readData(bytes, dataStart, dataEnd - dataStart);
        }
    }

    /** Appends a data line to {@link #joined}, after the first one if this is the second line. */
    private int join(byte[] bytes, int firstStart, int firstEnd, int joinedLength, int start, int end) {
        int length = joinedLength;
        if (length < 0) {
            length = firstEnd - firstStart;
            ensureJoined(length);
            System.arraycopy(bytes, firstStart, joined, 0, length);
        }
        ensureJoined(length + 1 + end - start);
        joined[length++] = '\n';
        System.arraycopy(bytes, start, joined, length, end - start);
        return length + end - start;
    }

    private void ensureJoined(int capacity) {
        if (joined.length < capacity) {
            joined = Arrays.copyOf(joined, Math.max(capacity, 2 * joined.length));
        }
    }

    private void readData(byte[] bytes, int offset, int length) {
        if (length == DONE.length && startsWith(bytes, offset, offset + length, DONE)) {
            done = true;
            return;
        }
        try (JsonParser parser = Json.utf8Parser(bytes, offset, length)) {
            readChunk(parser);
        } catch (JsonProcessingException e) {
            // Not a JSON chunk (a backend's error text, a truncated event): it passes through as it
            // is and counts nothing; what was read of it is discarded.
            usageEvent = false;
            usage = null;
            contentDeltas = 0;
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from a byte array", e);
        }
    }

    private void readChunk(JsonParser parser) throws IOException {
        if (parser.nextToken() != JsonToken.START_OBJECT) {
            return;
        }
        boolean hasUsage = false;
        int choices = 0;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            if (name.equals("usage") && value == JsonToken.START_OBJECT) {
                hasUsage = true;
                usage = UsageReader.read(parser);
            } else if (name.equals("choices") && value == JsonToken.START_ARRAY) {
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    choices++;
                    contentDeltas += parser.currentToken() == JsonToken.START_OBJECT && readChoice(parser) ? 1 : 0;
                }
            } else {
                parser.skipChildren();
            }
        }
        // With continuous usage stats (vLLM) every chunk has a usage and choices; only the final
        // chunk, with no choices, can be removed without losing output.
        usageEvent = hasUsage && choices == 0;
    }

    /** Whether the choice at the current {@code START_OBJECT} carries output; reads to its end. */
    private static boolean readChoice(JsonParser parser) throws IOException {
        boolean output = false;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            if (name.equals("delta") && value == JsonToken.START_OBJECT) {
                output |= readDelta(parser);
            } else if (name.equals("text")) {
                output |= nonEmptyString(parser);
            } else {
                parser.skipChildren();
            }
        }
        return output;
    }

    /** Content, reasoning or tool-call arguments: what the backend generated tokens for. */
    private static boolean readDelta(JsonParser parser) throws IOException {
        boolean output = false;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            if (name.equals("content") || name.equals("reasoning_content")) {
                output |= nonEmptyString(parser);
            } else if (name.equals("tool_calls") && value == JsonToken.START_ARRAY) {
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    output |= parser.currentToken() == JsonToken.START_OBJECT && readToolCall(parser);
                }
            } else {
                parser.skipChildren();
            }
        }
        return output;
    }

    private static boolean readToolCall(JsonParser parser) throws IOException {
        boolean output = false;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            boolean function = parser.currentName().equals("function");
            if (parser.nextToken() == JsonToken.START_OBJECT && function) {
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    boolean arguments = parser.currentName().equals("arguments");
                    parser.nextToken();
                    output |= arguments ? nonEmptyString(parser) : skip(parser);
                }
            } else {
                parser.skipChildren();
            }
        }
        return output;
    }

    private static boolean nonEmptyString(JsonParser parser) throws IOException {
        if (parser.currentToken() == JsonToken.VALUE_STRING) {
            return parser.getTextLength() > 0;
        }
        parser.skipChildren();
        return false;
    }

    private static boolean skip(JsonParser parser) throws IOException {
        parser.skipChildren();
        return false;
    }

    private static int indexOf(byte[] bytes, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private static boolean startsWith(byte[] bytes, int from, int to, byte[] prefix) {
        if (to - from < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[from + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
