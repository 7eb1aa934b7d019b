package io.aimesh.filter.body;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;

/**
 * Reads the {@code usage} of a non-streamed response ({@code chat.completion},
 * {@code text_completion}, embeddings). A response is backend data, not a precondition: whatever
 * the bytes, the answer is a usage or empty, never an exception. Stateless and thread-safe.
 */
public final class UsageReader {

    private UsageReader() {
    }

    /**
     * The top-level {@code usage} of a JSON response body, or empty when the body is not a JSON
     * object, has no {@code usage} or a null one, or one without a non-negative integer
     * {@code prompt_tokens} (then nothing can be charged from it).
     */
    public static Optional<Usage> fromJson(byte[] body) {
        requireNonNull(body, "body");
        try (JsonParser parser = Json.utf8Parser(body, 0, body.length)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return Optional.empty();
            }
            Usage usage = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                boolean isUsage = parser.currentName().equals("usage");
                if (parser.nextToken() == JsonToken.START_OBJECT && isUsage) {
                    usage = read(parser);
                } else {
                    parser.skipChildren();
                }
            }
            return Optional.ofNullable(usage);
        } catch (JsonProcessingException e) {
            // A truncated or malformed body: the backend charged something, but there is nothing to read.
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from a byte array", e);
        }
    }

    /**
     * Reads the usage object whose {@code START_OBJECT} is the current token, up to its
     * {@code END_OBJECT}; null if it has no valid {@code prompt_tokens} or any count is not a
     * non-negative integer. Of the details only {@code prompt_tokens_details.cached_tokens} is read
     * (priced apart); a value beyond the prompt is taken as none cached.
     */
    static Usage read(JsonParser parser) throws IOException {
        long prompt = -1;
        long completion = 0;
        long total = -1;
        long cached = 0;
        boolean valid = true;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            parser.nextToken();
            if (name.equals("prompt_tokens_details") && parser.currentToken() == JsonToken.START_OBJECT) {
                cached = cachedTokens(parser);
            } else if (name.equals("prompt_tokens") || name.equals("completion_tokens") || name.equals("total_tokens")) {
                long count = count(parser);
                valid &= count >= 0;
                if (name.equals("prompt_tokens")) {
                    prompt = count;
                } else if (name.equals("completion_tokens")) {
                    completion = count;
                } else {
                    total = count;
                }
            } else {
                parser.skipChildren();
            }
        }
        if (!valid || prompt < 0) {
            return null;
        }
        return new Usage(prompt, completion, total >= 0 ? total : saturatedAdd(prompt, completion),
                cached >= 0 && cached <= prompt ? cached : 0);
    }

    /** {@code cached_tokens} of a {@code prompt_tokens_details} object (its START_OBJECT current), or 0. */
    private static long cachedTokens(JsonParser parser) throws IOException {
        long cached = 0;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            parser.nextToken();
            if (name.equals("cached_tokens")) {
                cached = Math.max(0, count(parser));
            } else {
                parser.skipChildren();
            }
        }
        return cached;
    }

    /** A non-negative integer that fits a long, else -1 (and the value is skipped). */
    private static long count(JsonParser parser) throws IOException {
        if (parser.currentToken() != JsonToken.VALUE_NUMBER_INT
                || parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            parser.skipChildren();
            return -1;
        }
        long value = parser.getLongValue();
        return value >= 0 ? value : -1;
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }
}
