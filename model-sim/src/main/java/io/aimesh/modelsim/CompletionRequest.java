package io.aimesh.modelsim;

import static java.util.Objects.requireNonNull;

import java.util.OptionalInt;

/**
 * A validated completion request, reduced to what the simulator uses.
 *
 * @param kind which endpoint it came from
 * @param model the requested model name, non-blank
 * @param promptTokens approximate prompt size in tokens, {@code >= 1}
 * @param maxTokens the client's output limit, {@code >= 1} if present
 * @param stream whether to answer with server-sent events
 * @param includeUsage whether a streamed answer ends with a usage chunk
 * @param blocks the keys of the prompt's full KV blocks, for the prefix cache
 */
record CompletionRequest(
        Kind kind, String model, int promptTokens, OptionalInt maxTokens, boolean stream, boolean includeUsage,
        PromptBlocks blocks) {

    enum Kind {
        /** {@code POST /v1/chat/completions}. */
        CHAT,
        /** {@code POST /v1/completions}. */
        TEXT
    }

    CompletionRequest {
        requireNonNull(kind, "kind");
        requireNonNull(model, "model");
        requireNonNull(maxTokens, "maxTokens");
        requireNonNull(blocks, "blocks");
        if (promptTokens < 1) {
            throw new IllegalArgumentException("promptTokens: " + promptTokens + " (expected: >= 1)");
        }
        if (maxTokens.isPresent() && maxTokens.getAsInt() < 1) {
            throw new IllegalArgumentException("maxTokens: " + maxTokens.getAsInt() + " (expected: >= 1)");
        }
    }

    /** The request field holding the prompt, for error messages. */
    String promptParam() {
        return kind == Kind.CHAT ? "messages" : "prompt";
    }
}
