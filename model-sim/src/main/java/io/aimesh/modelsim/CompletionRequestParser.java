package io.aimesh.modelsim;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Parses the body of {@code POST /v1/chat/completions} and {@code POST /v1/completions} into a
 * {@link CompletionRequest}, collecting every problem with the path of the field that caused it
 * (e.g. {@code messages[2].content}), so a client sees all its mistakes in one 400.
 *
 * <p>Token counting is a deterministic approximation, not a tokenizer: a prompt of {@code c} UTF-16
 * chars counts {@code ceil(c / 4)} tokens (the usual rule of thumb for English with BPE), at least 1.
 * Chat prompts count the text of every message's {@code content}, either a string or the
 * {@code text} of its content parts; roles and non-text parts count nothing. A completions
 * {@code prompt} may be a string, or an array of strings, token ids, or arrays of token ids; the
 * array is counted as one concatenated prompt (OpenAI would answer one choice per element; this
 * simulator always answers one), and each token id counts one token.
 *
 * <p>The same text, with each chat message's role before its content, keys the prompt's KV blocks
 * for the prefix cache ({@link PromptBlocks}).
 *
 * <p>Fields the simulator does not model ({@code temperature}, {@code n}, {@code stop}, ...) are
 * ignored, as is {@code stream_options} when {@code stream} is false. {@code max_completion_tokens}
 * takes precedence over {@code max_tokens}, as in vLLM. Stateless and thread-safe.
 */
final class CompletionRequestParser {

    /** One thing wrong with a request: the field, or {@code null} for the whole body, and what. */
    record Problem(String param, String message) {}

    /** Exactly one of {@code request} (non-null) and {@code problems} (non-empty) is set. */
    record Result(CompletionRequest request, List<Problem> problems) {}

    private static final int CHARS_PER_TOKEN = PromptBlocks.CHARS_PER_TOKEN;
    private static final int MAX_SHOWN_CHARS = 40;

    private CompletionRequestParser() {}

    /** @param blockTokens the KV block size the prompt's block keys are cut at */
    static Result parse(CompletionRequest.Kind kind, byte[] body, int blockTokens) {
        if (isBlank(body)) {
            return failure("request body: empty (expected: a JSON object)");
        }
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            return failure("request body: malformed JSON" + where + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen: reading JSON from memory", e);
        }
        if (!root.isObject()) {
            return failure("request body: " + describe(root) + " (expected: a JSON object)");
        }
        List<Problem> problems = new ArrayList<>();
        String model = model(root.get("model"), problems);
        PromptBlocks.Builder blocks = PromptBlocks.builder(model == null ? "" : model, blockTokens);
        long chars = 0;
        long tokenIds = 0;
        if (kind == CompletionRequest.Kind.CHAT) {
            chars = messageChars(root.get("messages"), problems, blocks);
        } else {
            long[] counts = promptCounts(root.get("prompt"), problems, blocks);
            chars = counts[0];
            tokenIds = counts[1];
        }
        OptionalInt maxCompletionTokens = positiveInt(root.get("max_completion_tokens"), "max_completion_tokens",
                problems);
        OptionalInt maxTokens = positiveInt(root.get("max_tokens"), "max_tokens", problems);
        boolean stream = optionalBoolean(root.get("stream"), "stream", problems);
        boolean includeUsage = includeUsage(root.get("stream_options"), problems);
        if (!problems.isEmpty()) {
            return new Result(null, List.copyOf(problems));
        }
        long promptTokens = Math.max(1, (chars + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN + tokenIds);
        return new Result(new CompletionRequest(kind, model, (int) Math.min(Integer.MAX_VALUE, promptTokens),
                maxCompletionTokens.isPresent() ? maxCompletionTokens : maxTokens, stream, includeUsage,
                blocks.build()), List.of());
    }

    private static String model(JsonNode node, List<Problem> problems) {
        if (node == null || !node.isTextual() || node.asText().isBlank()) {
            problems.add(new Problem("model", "model: " + describe(node) + " (expected: a non-blank string)"));
            return null;
        }
        return node.asText();
    }

    /** Returns the chars of all message contents. */
    private static long messageChars(JsonNode messages, List<Problem> problems, PromptBlocks.Builder blocks) {
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            problems.add(new Problem("messages",
                    "messages: " + describe(messages) + " (expected: a non-empty array of message objects)"));
            return 0;
        }
        long chars = 0;
        for (int i = 0; i < messages.size(); i++) {
            String path = "messages[" + i + "]";
            JsonNode message = messages.get(i);
            if (!message.isObject()) {
                problems.add(new Problem("messages", path + ": " + describe(message) + " (expected: an object)"));
                continue;
            }
            JsonNode role = message.get("role");
            if (role == null || !role.isTextual()) {
                problems.add(new Problem("messages", path + ".role: " + describe(role) + " (expected: a string)"));
            }
            blocks.message(role == null ? null : role.asText());
            chars += contentChars(message.get("content"), path + ".content", problems, blocks);
        }
        return chars;
    }

    private static long contentChars(JsonNode content, String path, List<Problem> problems, PromptBlocks.Builder blocks) {
        if (content == null || content.isNull()) {
            return 0; // an assistant message with tool_calls has no content
        }
        if (content.isTextual()) {
            blocks.text(content.asText());
            return content.asText().length();
        }
        if (!content.isArray()) {
            problems.add(new Problem("messages",
                    path + ": " + describe(content) + " (expected: a string or an array of content parts)"));
            return 0;
        }
        long chars = 0;
        for (int i = 0; i < content.size(); i++) {
            JsonNode part = content.get(i);
            JsonNode text = part.get("text");
            if (!part.isObject() || (text != null && !text.isTextual())) {
                problems.add(new Problem("messages", path + "[" + i + "]: " + describe(part)
                        + " (expected: a content part object whose text is a string)"));
            } else if (text != null) {
                blocks.text(text.asText());
                chars += text.asText().length();
            }
        }
        return chars;
    }

    /** Returns {chars, token ids} of a completions prompt. */
    private static long[] promptCounts(JsonNode prompt, List<Problem> problems, PromptBlocks.Builder blocks) {
        long[] counts = new long[2];
        if (prompt != null && prompt.isTextual()) {
            blocks.text(prompt.asText());
            counts[0] = prompt.asText().length();
        } else if (prompt != null && prompt.isArray() && !prompt.isEmpty()) {
            for (int i = 0; i < prompt.size(); i++) {
                JsonNode element = prompt.get(i);
                if (element.isTextual()) {
                    blocks.text(element.asText());
                    counts[0] += element.asText().length();
                } else if (element.isIntegralNumber()) {
                    blocks.tokenId(element.longValue());
                    counts[1]++;
                } else if (element.isArray() && allIntegral(element)) {
                    element.forEach(id -> blocks.tokenId(id.longValue()));
                    counts[1] += element.size();
                } else {
                    problems.add(new Problem("prompt", "prompt[" + i + "]: " + describe(element)
                            + " (expected: a string, a token id or an array of token ids)"));
                }
            }
        } else {
            problems.add(new Problem("prompt", "prompt: " + describe(prompt)
                    + " (expected: a string or a non-empty array of strings or token ids)"));
        }
        return counts;
    }

    private static boolean allIntegral(JsonNode array) {
        for (JsonNode element : array) {
            if (!element.isIntegralNumber()) {
                return false;
            }
        }
        return true;
    }

    /** Absent or null means no limit; larger than {@code int} is clamped, the server caps it anyway. */
    private static OptionalInt positiveInt(JsonNode node, String name, List<Problem> problems) {
        if (node == null || node.isNull()) {
            return OptionalInt.empty();
        }
        if (!node.isIntegralNumber() || node.bigIntegerValue().signum() <= 0) {
            problems.add(new Problem(name, name + ": " + describe(node) + " (expected: an integer >= 1)"));
            return OptionalInt.empty();
        }
        return OptionalInt.of(node.canConvertToInt() ? node.intValue() : Integer.MAX_VALUE);
    }

    private static boolean optionalBoolean(JsonNode node, String name, List<Problem> problems) {
        if (node == null || node.isNull()) {
            return false;
        }
        if (!node.isBoolean()) {
            problems.add(new Problem(name, name + ": " + describe(node) + " (expected: a boolean)"));
            return false;
        }
        return node.booleanValue();
    }

    private static boolean includeUsage(JsonNode options, List<Problem> problems) {
        if (options == null || options.isNull()) {
            return false;
        }
        if (!options.isObject()) {
            problems.add(new Problem("stream_options",
                    "stream_options: " + describe(options) + " (expected: an object)"));
            return false;
        }
        return optionalBoolean(options.get("include_usage"), "stream_options.include_usage", problems);
    }

    private static Result failure(String message) {
        return new Result(null, List.of(new Problem(null, message)));
    }

    private static boolean isBlank(byte[] body) {
        for (byte b : body) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return false;
            }
        }
        return true;
    }

    /** Shows a value in a message: strings quoted and shortened, containers by kind. */
    static String describe(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "missing";
        }
        if (node.isObject()) {
            return "an object";
        }
        if (node.isArray()) {
            return node.isEmpty() ? "an empty array" : "an array";
        }
        if (node.isTextual() && node.asText().length() > MAX_SHOWN_CHARS) {
            return Json.quote(node.asText().substring(0, MAX_SHOWN_CHARS) + "...");
        }
        return node.toString();
    }
}
