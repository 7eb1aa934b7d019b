package io.aimesh.filter.body;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;

/**
 * Asks the backend for the usage chunk of a stream the client did not ask usage for, by setting
 * {@code "stream_options":{"include_usage":true}} in the request body; the filter needs the
 * counts to charge token limits, and hides the chunk from the client again
 * ({@link SseUsageScanner}).
 *
 * <p>The body is spliced, not re-serialized: every other byte stays as the client sent it (key
 * order, spacing, number spelling, escapes), so the backend sees the request the client made.
 * One streaming pass finds where to splice:
 * <ul>
 *   <li>no {@code stream_options}: {@code ,"stream_options":{"include_usage":true}} goes before
 *       the closing brace of the body;
 *   <li>{@code "stream_options":null}: the {@code null} becomes {@code {"include_usage":true}};
 *   <li>an object without {@code include_usage}: {@code "include_usage":true} goes after its
 *       opening brace, followed by a comma unless the object is empty;
 *   <li>{@code "include_usage":false} or {@code null}: the literal becomes {@code true}.
 * </ul>
 * Stateless and thread-safe.
 */
public final class UsageRewriter {

    private static final byte[] MEMBER = ",\"stream_options\":{\"include_usage\":true}".getBytes(US_ASCII);
    private static final byte[] OBJECT = "{\"include_usage\":true}".getBytes(US_ASCII);
    private static final byte[] FIELD = "\"include_usage\":true".getBytes(US_ASCII);
    private static final byte[] FIELD_THEN_COMMA = "\"include_usage\":true,".getBytes(US_ASCII);
    private static final byte[] TRUE = "true".getBytes(US_ASCII);

    private UsageRewriter() {
    }

    /**
     * The body to forward instead of {@code body}, or empty when it needs no change: the request
     * is not streamed, or already asks for usage ({@link ParsedRequest#needsUsageRequested()}).
     *
     * @param request what {@link RequestBodyParser} made of {@code body}
     * @param body the bytes {@code request} was parsed from; not modified
     * @throws IllegalArgumentException if {@code body} is not a body that parsed into {@code request}
     */
    public static Optional<byte[]> rewrite(ParsedRequest request, byte[] body) {
        requireNonNull(request, "request");
        requireNonNull(body, "body");
        if (!request.needsUsageRequested()) {
            return Optional.empty();
        }
        try (JsonParser parser = Json.utf8Parser(body, 0, body.length)) {
            return Optional.of(splice(parser, body));
        } catch (JsonProcessingException e) {
            throw (IllegalArgumentException) notParsed().initCause(e);
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from a byte array", e);
        }
    }

    private static byte[] splice(JsonParser parser, byte[] body) throws IOException {
        if (parser.nextToken() != JsonToken.START_OBJECT) {
            throw notParsed();
        }
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            boolean streamOptions = parser.currentName().equals("stream_options");
            JsonToken value = parser.nextToken();
            if (!streamOptions) {
                parser.skipChildren();
            } else if (value == JsonToken.START_OBJECT) {
                return spliceInto(parser, body);
            } else if (value == JsonToken.VALUE_NULL) {
                return replace(body, offset(parser), 4, OBJECT);
            } else {
                throw notParsed();
            }
        }
        return replace(body, offset(parser), 0, MEMBER);
    }

    /** Sets {@code include_usage} in the {@code stream_options} object that starts at the current token. */
    private static byte[] spliceInto(JsonParser parser, byte[] body) throws IOException {
        int afterBrace = offset(parser) + 1;
        boolean empty = true;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            empty = false;
            boolean includeUsage = parser.currentName().equals("include_usage");
            JsonToken value = parser.nextToken();
            if (includeUsage && (value == JsonToken.VALUE_FALSE || value == JsonToken.VALUE_NULL)) {
                return replace(body, offset(parser), value == JsonToken.VALUE_FALSE ? 5 : 4, TRUE);
            } else if (includeUsage) {
                throw notParsed(); // true would have needed no rewrite
            }
            parser.skipChildren();
        }
        return replace(body, afterBrace, 0, empty ? FIELD : FIELD_THEN_COMMA);
    }

    private static IllegalArgumentException notParsed() {
        return new IllegalArgumentException("body: not the body the request was parsed from");
    }

    /** The byte offset of the current token in the body. */
    private static int offset(JsonParser parser) {
        return Math.toIntExact(parser.currentTokenLocation().getByteOffset());
    }

    /** {@code body} with the {@code length} bytes at {@code at} replaced by {@code insert}. */
    private static byte[] replace(byte[] body, int at, int length, byte[] insert) {
        byte[] result = new byte[body.length - length + insert.length];
        System.arraycopy(body, 0, result, 0, at);
        System.arraycopy(insert, 0, result, at, insert.length);
        System.arraycopy(body, at + length, result, at + insert.length, body.length - at - length);
        return result;
    }
}
