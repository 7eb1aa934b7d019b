package io.aimesh.modelsim;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The OpenAI wire shapes of one completion: the whole JSON response, or the server-sent events of a
 * stream ({@code data: <chunk>\n\n} per token, a chunk carrying {@code finish_reason}, an optional
 * usage chunk with empty {@code choices}, then {@code data: [DONE]}).
 *
 * <p>Chunks are assembled from prebuilt string parts rather than a JSON tree because they are built
 * once per generated token; token texts come from {@link PseudoText} and need no escaping.
 * Not thread-safe: one instance per request.
 */
final class CompletionFormat {

    static final byte[] DONE_EVENT = "data: [DONE]\n\n".getBytes(UTF_8);

    private final CompletionRequest.Kind kind;
    private final String id;
    private final long created;
    private final String model;
    /** {@code data: {"id":...,"model":...,} } shared by every chunk. */
    private final String chunkHead;
    /** With include_usage OpenAI sends {@code "usage":null} in every chunk but the last. */
    private final String chunkTail;

    /**
     * @param textSeed the request's seed; the response id derives from it, so ids are deterministic
     * @param createdEpochSeconds the {@code created} field, seconds since the epoch
     */
    CompletionFormat(CompletionRequest.Kind kind, String model, long textSeed, long createdEpochSeconds,
            boolean includeUsage) {
        this.kind = kind;
        this.model = model;
        this.created = createdEpochSeconds;
        boolean chat = kind == CompletionRequest.Kind.CHAT;
        this.id = (chat ? "chatcmpl-" : "cmpl-") + String.format("%016x", textSeed);
        String object = chat ? "chat.completion.chunk" : "text_completion";
        this.chunkHead = "data: {\"id\":\"" + id + "\",\"object\":\"" + object + "\",\"created\":" + created
                + ",\"model\":" + Json.quote(model) + ",";
        this.chunkTail = (includeUsage ? ",\"usage\":null" : "") + "}\n\n";
    }

    String id() {
        return id;
    }

    /** The event carrying one generated token; the first chat chunk also carries the role. */
    byte[] tokenEvent(String token, boolean first) {
        String choice = kind == CompletionRequest.Kind.CHAT
                ? "{\"index\":0,\"delta\":{" + (first ? "\"role\":\"assistant\"," : "") + "\"content\":\""
                        + token + "\"},\"logprobs\":null,\"finish_reason\":null}"
                : "{\"index\":0,\"text\":\"" + token + "\",\"logprobs\":null,\"finish_reason\":null}";
        return (chunkHead + "\"choices\":[" + choice + "]" + chunkTail).getBytes(UTF_8);
    }

    /** The event ending the choice with {@code finishReason} ({@code stop} or {@code length}). */
    byte[] finishEvent(String finishReason) {
        String content = kind == CompletionRequest.Kind.CHAT ? "\"delta\":{}" : "\"text\":\"\"";
        return (chunkHead + "\"choices\":[{\"index\":0," + content + ",\"logprobs\":null,\"finish_reason\":\""
                + finishReason + "\"}]" + chunkTail).getBytes(UTF_8);
    }

    /** The {@code stream_options.include_usage} event: no choices, the final token counts. */
    byte[] usageEvent(int promptTokens, int completionTokens) {
        return (chunkHead + "\"choices\":[],\"usage\":" + usageJson(promptTokens, completionTokens) + "}\n\n")
                .getBytes(UTF_8);
    }

    /** An error inside an already started stream, as vLLM sends it; no {@code [DONE]} follows. */
    static byte[] errorEvent(ApiError error) {
        byte[] json = error.toJson();
        byte[] event = new byte[6 + json.length + 2];
        System.arraycopy("data: ".getBytes(UTF_8), 0, event, 0, 6);
        System.arraycopy(json, 0, event, 6, json.length);
        event[event.length - 2] = '\n';
        event[event.length - 1] = '\n';
        return event;
    }

    /** The non-streaming {@code chat.completion} or {@code text_completion} response body. */
    byte[] response(String text, String finishReason, int promptTokens, int completionTokens) {
        boolean chat = kind == CompletionRequest.Kind.CHAT;
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("id", id);
        root.put("object", chat ? "chat.completion" : "text_completion");
        root.put("created", created);
        root.put("model", model);
        ArrayNode choices = root.putArray("choices");
        ObjectNode choice = choices.addObject().put("index", 0);
        if (chat) {
            choice.putObject("message").put("role", "assistant").put("content", text);
        } else {
            choice.put("text", text);
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        root.putObject("usage")
                .put("prompt_tokens", promptTokens)
                .put("completion_tokens", completionTokens)
                .put("total_tokens", promptTokens + completionTokens);
        return Json.bytes(root);
    }

    private static String usageJson(int promptTokens, int completionTokens) {
        return "{\"prompt_tokens\":" + promptTokens + ",\"completion_tokens\":" + completionTokens
                + ",\"total_tokens\":" + (promptTokens + completionTokens) + "}";
    }
}
