package io.aimesh.filter.body;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.OptionalLong;

/**
 * The fields of an inference request the filter routes, limits and counts by; everything else in
 * the body is left to the backend.
 *
 * @param kind which call this is
 * @param model the {@code model} field: not empty, at most 256 characters, no control characters
 *     (it is copied into a routing header)
 * @param stream the {@code stream} field; always false for embeddings
 * @param includeUsage {@code stream_options.include_usage} as sent, whether or not {@code stream} is set
 * @param maxTokens the larger of {@code max_completion_tokens} and {@code max_tokens} (a server may
 *     honour either), from 1 to 16,777,216 (2^24) per choice; empty when neither is set, or for embeddings
 * @param promptTexts the text the backend tokenizes: for chat, each message's {@code role}, the text
 *     of its {@code content} (a string or the {@code text} of its {@code text} parts) and its
 *     {@code name}; for completions the {@code prompt} string(s); for embeddings the {@code input}
 *     string(s). Image, audio and file parts, tool definitions and tool calls are not included: see
 *     {@code nonTextParts} and {@code schemaTexts}.
 * @param promptTokenIds how many token ids were given instead of text ({@code prompt} or
 *     {@code input} as an array of integers or of integer arrays)
 * @param messageCount how many chat messages; 0 for other kinds
 * @param nameCount how many chat messages carry a {@code name}; 0 for other kinds
 * @param embeddingOptions whether an embeddings request sets {@code encoding_format},
 *     {@code dimensions} or {@code user}: answers a shared (coalesced) call would not keep per request
 * @param choices the larger of {@code n} and {@code best_of} (a server generates {@code best_of}
 *     candidates to return {@code n}), 1 to 128; 1 for embeddings
 * @param prompts how many prompts a completions request sends (an array of strings or of token
 *     arrays), each answered with its own choices; 1 for other kinds and for one prompt
 * @param schemaTexts the JSON, as sent, of {@code tools}, {@code functions}, {@code response_format}
 *     and the messages' {@code tool_calls}: input the backend renders into the prompt
 * @param nonTextParts how many chat content parts are not text (images, audio, files)
 */
public record ParsedRequest(RequestKind kind, String model, boolean stream, boolean includeUsage,
        OptionalLong maxTokens, List<String> promptTexts, long promptTokenIds, int messageCount, int nameCount,
        boolean embeddingOptions, int choices, int prompts, List<String> schemaTexts, int nonTextParts)
        implements BodyParseResult {

    /** A request without embeddings options, with one choice of one prompt, no schemas and text only. */
    public ParsedRequest(RequestKind kind, String model, boolean stream, boolean includeUsage, OptionalLong maxTokens,
                         List<String> promptTexts, long promptTokenIds, int messageCount, int nameCount) {
        this(kind, model, stream, includeUsage, maxTokens, promptTexts, promptTokenIds, messageCount, nameCount, false,
                1, 1, List.of(), 0);
    }

    public ParsedRequest {
        requireNonNull(kind, "kind");
        requireNonNull(model, "model");
        requireNonNull(maxTokens, "maxTokens");
        promptTexts = List.copyOf(promptTexts);
        schemaTexts = List.copyOf(schemaTexts);
        if (choices < 1 || prompts < 1 || nonTextParts < 0) {
            throw new IllegalArgumentException("choices, prompts, nonTextParts: " + choices + ", " + prompts + ", "
                    + nonTextParts + " (expected: >= 1, >= 1, >= 0)");
        }
        if (model.isEmpty()) {
            throw new IllegalArgumentException("model: empty (expected: a model name)");
        }
        if (maxTokens.isPresent() && maxTokens.getAsLong() < 1) {
            throw new IllegalArgumentException("maxTokens: " + maxTokens.getAsLong() + " (expected: >= 1)");
        }
        if (promptTokenIds < 0 || messageCount < 0 || nameCount < 0 || nameCount > messageCount) {
            throw new IllegalArgumentException("promptTokenIds, messageCount, nameCount: " + promptTokenIds + ", "
                    + messageCount + ", " + nameCount + " (expected: >= 0, nameCount <= messageCount)");
        }
    }

    /** The UTF-16 length of all {@link #promptTexts}, which {@code approximate} token counting divides by 4. */
    public long inputChars() {
        long chars = 0;
        for (String text : promptTexts) {
            chars += text.length();
        }
        return chars;
    }

    /** The UTF-16 length of all {@link #schemaTexts}. */
    public long schemaChars() {
        long chars = 0;
        for (String text : schemaTexts) {
            chars += text.length();
        }
        return chars;
    }

    /**
     * How many answers of up to {@link #maxTokens} the request may produce: its choices for each
     * of its prompts; {@code >= 1}.
     */
    public long outputMultiplier() {
        return (long) choices * prompts;
    }

    /**
     * Whether the backend must be asked for a usage chunk the client did not ask for: a stream without
     * {@code stream_options.include_usage: true}. See {@link UsageRewriter}.
     */
    public boolean needsUsageRequested() {
        return stream && !includeUsage;
    }
}
