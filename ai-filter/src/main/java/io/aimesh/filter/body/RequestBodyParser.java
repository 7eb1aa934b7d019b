package io.aimesh.filter.body;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * Turns the buffered body of an inference request into a {@link ParsedRequest}, or into the
 * {@link BodyError} the filter answers with. Never throws on bad input: every body, however
 * broken, gives one or the other.
 *
 * <p>Checks, in order: the content type (415), the size (413), UTF-8 validity (400 with the byte
 * offset), JSON syntax (400 with line and column; nothing may follow the object), then the fields
 * (400 naming every wrong field with its path). The body is read in one streaming pass with
 * Jackson's {@code JsonParser}; fields the filter does not use are skipped without being
 * materialized, so unknown fields, which OpenAI adds all the time, cost only their scan.
 *
 * <p>The body is a {@code byte[]} (the filter passes {@code ByteString.toByteArray()}): Jackson's
 * fastest parser reads arrays, and {@link UsageRewriter} needs the bytes anyway.
 *
 * <p>Immutable and thread-safe.
 */
public final class RequestBodyParser {

    private static final byte[] BYTE_ORDER_MARK = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    private final int maxBodyBytes;

    private RequestBodyParser(int maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    /** A parser that answers 413 to bodies longer than {@code maxBodyBytes} (at least 1). */
    public static RequestBodyParser of(int maxBodyBytes) {
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("maxBodyBytes: " + maxBodyBytes + " (expected: >= 1)");
        }
        return new RequestBodyParser(maxBodyBytes);
    }

    /** The largest body accepted, in bytes. */
    public int maxBodyBytes() {
        return maxBodyBytes;
    }

    /**
     * Parses a request body.
     *
     * @param kind the call, from {@link RequestKind#ofPath}; non-inference paths never reach the parser
     * @param contentType the {@code content-type} header value, or {@code null} when absent (then the
     *     body is taken as JSON, as OpenAI does)
     * @param body the whole body; not modified, not retained
     */
    public BodyParseResult parse(RequestKind kind, String contentType, byte[] body) {
        requireNonNull(kind, "kind");
        requireNonNull(body, "body");
        String unsupported = contentType == null ? null : unsupportedContentType(contentType);
        if (unsupported != null) {
            return BodyError.invalid(415, null, unsupported);
        }
        if (body.length > maxBodyBytes) {
            return BodyError.invalid(413, null,
                    "request body: " + body.length + " bytes (expected: at most " + maxBodyBytes + ")");
        }
        int invalid = Utf8.firstInvalidByte(body);
        if (invalid >= 0) {
            return BodyError.invalid(400, null, "request body: invalid UTF-8 at byte offset " + invalid);
        }
        if (startsWith(body, BYTE_ORDER_MARK)) {
            // Python's json.loads, behind OpenAI-compatible servers, rejects a BOM; so does the filter.
            return BodyError.invalid(400, null, "request body: starts with a byte order mark (expected: a JSON object)");
        }
        int guess = Json.encodingGuessAt(body, 0, body.length);
        if (guess >= 0) {
            return BodyError.invalid(400, null, "request body: malformed JSON at " + position(body, guess)
                    + ": a NUL byte (expected: a JSON object)");
        }
        JsonParser parser = null;
        try {
            parser = Json.FACTORY.createParser(body);
            return read(kind, parser, body);
        } catch (JsonProcessingException e) {
            return malformed(body, e, parser);
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from a byte array", e);
        } finally {
            close(parser);
        }
    }

    private static BodyParseResult read(RequestKind kind, JsonParser parser, byte[] body) throws IOException {
        JsonToken first = parser.nextToken();
        if (first == null) {
            return BodyError.invalid(400, null, "request body: empty (expected: a JSON object)");
        }
        if (first != JsonToken.START_OBJECT) {
            return BodyError.invalid(400, null, "request body: expected a JSON object, got " + Json.describe(parser));
        }
        BodyParseResult result = new RequestReader(kind, parser, body).read();
        // A second value after the object would be read by no one the same way; Python rejects it.
        if (parser.nextToken() != null) {
            return BodyError.invalid(400, null, "request body: malformed JSON at "
                    + position(body, parser.currentTokenLocation().getByteOffset()) + ": a second value after the JSON object");
        }
        return result;
    }

    private static BodyError malformed(byte[] body, JsonProcessingException e, JsonParser parser) {
        // Limits such as the nesting depth are reported without a location; the parser knows where it stopped.
        JsonLocation at = e.getLocation() != null ? e.getLocation() : parser == null ? null : parser.currentLocation();
        String where = at == null || at.getByteOffset() < 0 ? "" : " at " + position(body, at.getByteOffset());
        return BodyError.invalid(400, null, "request body: malformed JSON" + where + ": " + reason(e));
    }

    /**
     * {@code line N, column M} of a byte offset, both from 1, the column in characters (code points)
     * as an editor counts them; Jackson's columns count bytes, and differ by one between its token
     * and error locations.
     */
    static String position(byte[] body, long byteOffset) {
        int end = (int) Math.min(byteOffset, body.length);
        int line = 1;
        int column = 1;
        for (int i = 0; i < end; i++) {
            if (body[i] == '\n') {
                line++;
                column = 1;
            } else if ((body[i] & 0xC0) != 0x80) {
                column++;
            }
        }
        return "line " + line + ", column " + column;
    }

    /** Jackson's message without its source excerpt and marker notes, on one line. */
    private static String reason(JsonProcessingException e) {
        String message = String.valueOf(e.getOriginalMessage());
        for (String noise : new String[] {"\n", " (start marker at", " (for ", " at [Source:"}) {
            int cut = message.indexOf(noise);
            if (cut >= 0) {
                message = message.substring(0, cut);
            }
        }
        return message;
    }

    private static void close(JsonParser parser) {
        if (parser != null) {
            try {
                parser.close();
            } catch (IOException e) {
                throw new UncheckedIOException("closing a parser of a byte array", e);
            }
        }
    }

    /**
     * Why {@code contentType} is not JSON, or null when it is: {@code application/json} in any case,
     * with any parameters, but a charset other than UTF-8 (RFC 8259 section 8.1 allows no other).
     */
    static String unsupportedContentType(String contentType) {
        if (contentType.isBlank()) {
            return null;
        }
        String[] parts = contentType.split(";");
        String mediaType = parts[0].trim().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json")) {
            return "content-type: " + contentType + " (expected: application/json)";
        }
        for (int i = 1; i < parts.length; i++) {
            String parameter = parts[i].trim();
            int equals = parameter.indexOf('=');
            if (equals > 0 && parameter.substring(0, equals).trim().equalsIgnoreCase("charset")) {
                String charset = parameter.substring(equals + 1).trim().replace("\"", "");
                if (!charset.equalsIgnoreCase("utf-8") && !charset.equalsIgnoreCase("utf8")) {
                    return "content-type: charset " + charset + " (expected: utf-8)";
                }
            }
        }
        return null;
    }

    private static boolean startsWith(byte[] body, byte[] prefix) {
        if (body.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (body[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
