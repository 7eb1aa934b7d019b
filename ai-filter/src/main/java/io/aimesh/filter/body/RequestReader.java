package io.aimesh.filter.body;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Reads one request object from a streaming parser, in a single pass: the fields the filter needs
 * are read, every other value is skipped without being materialized, and every problem is
 * collected with its field path. Not thread-safe: one instance per body.
 *
 * <p>A field the filter reads may appear only once. OpenAI's and vLLM's servers parse with
 * Python's {@code json}, which keeps the last of two equal keys, while this reader would decide on
 * the first: a second {@code model} could route one way and bill another, a second
 * {@code max_tokens} could slip past a token limit. Fields the filter does not read may repeat.
 */
final class RequestReader {

    /** Longer than any model name in use (Hugging Face repo ids are at most 96 characters). */
    static final int MAX_MODEL_CHARS = 256;
    /**
     * 16 Mi tokens: more than any model's context window. Larger values are client bugs, and keep
     * token-budget arithmetic far from overflow.
     */
    static final long MAX_TOKENS_LIMIT = 1L << 24;
    /**
     * The largest {@code n} and {@code best_of}: OpenAI allows 128 choices. Larger values would let
     * one request multiply its output past any budget's arithmetic.
     */
    static final int MAX_CHOICES = 128;

    private static final int MODEL = 1;
    private static final int STREAM = 1 << 1;
    private static final int STREAM_OPTIONS = 1 << 2;
    private static final int MAX_TOKENS = 1 << 3;
    private static final int MAX_COMPLETION_TOKENS = 1 << 4;
    private static final int MESSAGES = 1 << 5;
    private static final int PROMPT = 1 << 6;
    private static final int INPUT = 1 << 7;
    private static final int N = 1 << 8;
    private static final int BEST_OF = 1 << 9;
    private static final int TOOLS = 1 << 10;
    private static final int FUNCTIONS = 1 << 11;
    private static final int RESPONSE_FORMAT = 1 << 12;

    private static final int ROLE = 1;
    private static final int CONTENT = 1 << 1;
    private static final int NAME = 1 << 2;

    private final RequestKind kind;
    private final JsonParser parser;
    private final byte[] body;
    private final Problems problems = new Problems();
    private final List<String> texts = new ArrayList<>();
    /** The JSON of tool and function definitions, response schemas and tool calls: input, tokenized as text. */
    private final List<String> schemas = new ArrayList<>(0);
    private int seen;
    private String model;
    private boolean stream;
    private boolean includeUsage;
    private long maxTokens = -1;
    private long maxCompletionTokens = -1;
    private long tokenIds;
    private int messages;
    private int names;
    private boolean embeddingOptions;
    private int n = 1;
    private int bestOf = -1;
    /** Prompts of a completions request: each gets its own choices. */
    private int prompts = 1;
    private int nonTextParts;

    /** @param body the bytes {@code parser} reads, for copying schemas out as they were sent */
    RequestReader(RequestKind kind, JsonParser parser, byte[] body) {
        this.kind = kind;
        this.parser = parser;
        this.body = body;
    }

    /** Reads the object whose {@code START_OBJECT} is the current token, up to its {@code END_OBJECT}. */
    BodyParseResult read() throws IOException {
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            parser.nextToken();
            int field = field(name);
            if (field == 0) {
                embeddingOptions |= kind == RequestKind.EMBEDDING
                        && (name.equals("encoding_format") || name.equals("dimensions") || name.equals("user"));
                parser.skipChildren();
            } else if ((seen & field) != 0) {
                problems.add(name, "duplicate key (the backend would read the last one)");
                parser.skipChildren();
            } else {
                seen |= field;
                readField(field, name);
            }
        }
        checkRequired();
        if (bestOf > 0 && bestOf < n) {
            problems.add("best_of", bestOf + " (expected: >= n, which is " + n + ")");
        }
        if (!problems.isEmpty()) {
            return problems.toError();
        }
        // A server may honour either cap (vLLM and model-sim prefer max_completion_tokens, others
        // max_tokens): the larger one is what a request may cost.
        long limit = Math.max(maxCompletionTokens, maxTokens);
        return new ParsedRequest(kind, model, stream, includeUsage,
                limit > 0 ? OptionalLong.of(limit) : OptionalLong.empty(), texts, tokenIds, messages, names, embeddingOptions,
                Math.max(n, bestOf), prompts, schemas, nonTextParts);
    }

    /** The bit of a field this kind of request reads, or 0 for a field to skip. */
    private int field(String name) {
        return switch (name) {
            case "model" -> MODEL;
            case "messages" -> kind == RequestKind.CHAT ? MESSAGES : 0;
            case "prompt" -> kind == RequestKind.COMPLETION ? PROMPT : 0;
            case "input" -> kind == RequestKind.EMBEDDING ? INPUT : 0;
            default -> kind == RequestKind.EMBEDDING ? 0 : generationField(name);
        };
    }

    /**
     * The bit of a field of chat and completions requests, which generate; 0 for a field to skip.
     * {@code max_completion_tokens} counts for completions too: vLLM and model-sim honour it there
     * (model-sim's CompletionRequestParser).
     */
    private static int generationField(String name) {
        return switch (name) {
            case "stream" -> STREAM;
            case "stream_options" -> STREAM_OPTIONS;
            case "max_tokens" -> MAX_TOKENS;
            case "max_completion_tokens" -> MAX_COMPLETION_TOKENS;
            case "n" -> N;
            case "best_of" -> BEST_OF;
            case "tools" -> TOOLS;
            case "functions" -> FUNCTIONS;
            case "response_format" -> RESPONSE_FORMAT;
            default -> 0;
        };
    }

    private void readField(int field, String name) throws IOException {
        switch (field) {
            case MODEL:
                readModel();
                break;
            case STREAM:
                stream = readBoolean(name);
                break;
            case STREAM_OPTIONS:
                readStreamOptions();
                break;
            case MAX_TOKENS:
                maxTokens = readMaxTokens(name);
                break;
            case MAX_COMPLETION_TOKENS:
                maxCompletionTokens = readMaxTokens(name);
                break;
            case MESSAGES:
                readMessages();
                break;
            case N:
                n = readChoices(name, 1);
                break;
            case BEST_OF:
                bestOf = readChoices(name, -1);
                break;
            case TOOLS:
            case FUNCTIONS:
            case RESPONSE_FORMAT:
                readSchema();
                break;
            default: // PROMPT, INPUT
                readPrompts(name);
                break;
        }
    }

    private void checkRequired() {
        if ((seen & MODEL) == 0) {
            problems.add("model", "missing (expected: a model name)");
        }
        if (kind == RequestKind.CHAT && (seen & MESSAGES) == 0) {
            problems.add("messages", "missing (expected: an array of messages)");
        } else if (kind == RequestKind.COMPLETION && (seen & PROMPT) == 0) {
            problems.add("prompt", "missing (expected: a string or an array of strings or token ids)");
        } else if (kind == RequestKind.EMBEDDING && (seen & INPUT) == 0) {
            problems.add("input", "missing (expected: a string or an array of strings or token ids)");
        }
    }

    private void readModel() throws IOException {
        if (parser.currentToken() != JsonToken.VALUE_STRING) {
            mismatch("model", "a string");
            return;
        }
        String value = parser.getText();
        if (value.isEmpty()) {
            problems.add("model", "empty string (expected: a model name)");
        } else if (value.length() > MAX_MODEL_CHARS) {
            problems.add("model", value.length() + " characters (expected: at most " + MAX_MODEL_CHARS + ")");
        } else {
            int control = firstControlCharacter(value);
            if (control >= 0) {
                // The model is copied into a routing header, where Envoy rejects control characters.
                problems.add("model", "control character at index " + control + " (expected: a model name)");
            } else {
                model = value;
            }
        }
    }

    private static int firstControlCharacter(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                return i;
            }
        }
        return -1;
    }

    /** A boolean, or {@code null} meaning false, as in OpenAI's API. */
    private boolean readBoolean(String param) throws IOException {
        switch (parser.currentToken()) {
            case VALUE_TRUE:
                return true;
            case VALUE_FALSE:
            case VALUE_NULL:
                return false;
            default:
                mismatch(param, "a boolean");
                return false;
        }
    }

    private void readStreamOptions() throws IOException {
        JsonToken token = parser.currentToken();
        if (token == JsonToken.VALUE_NULL) {
            return;
        }
        if (token != JsonToken.START_OBJECT) {
            mismatch("stream_options", "an object");
            return;
        }
        boolean seenIncludeUsage = false;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            parser.nextToken();
            if (!name.equals("include_usage")) {
                parser.skipChildren();
            } else if (seenIncludeUsage) {
                problems.add("stream_options.include_usage", "duplicate key (the backend would read the last one)");
                parser.skipChildren();
            } else {
                seenIncludeUsage = true;
                includeUsage = readBoolean("stream_options.include_usage");
            }
        }
    }

    /** A token limit from 1 to {@link #MAX_TOKENS_LIMIT}, or -1 when null or wrong. */
    private long readMaxTokens(String param) throws IOException {
        JsonToken token = parser.currentToken();
        if (token == JsonToken.VALUE_NULL) {
            return -1;
        }
        if (token != JsonToken.VALUE_NUMBER_INT) {
            mismatch(param, "an integer");
            return -1;
        }
        if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                || parser.getLongValue() < 1 || parser.getLongValue() > MAX_TOKENS_LIMIT) {
            problems.add(param, Json.describe(parser) + " (expected: an integer from 1 to " + MAX_TOKENS_LIMIT + ")");
            return -1;
        }
        return parser.getLongValue();
    }

    /**
     * {@code n} or {@code best_of}: an integer from 1 to {@link #MAX_CHOICES}; {@code absent} when null
     * or wrong.
     */
    private int readChoices(String param, int absent) throws IOException {
        JsonToken token = parser.currentToken();
        if (token == JsonToken.VALUE_NULL) {
            return absent;
        }
        if (token != JsonToken.VALUE_NUMBER_INT) {
            mismatch(param, "an integer");
            return absent;
        }
        if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                || parser.getLongValue() < 1 || parser.getLongValue() > MAX_CHOICES) {
            problems.add(param, Json.describe(parser) + " (expected: an integer from 1 to " + MAX_CHOICES + ")");
            return absent;
        }
        return parser.getIntValue();
    }

    /** Keeps the current value's JSON as sent (tool definitions, a response schema, tool calls); null is nothing. */
    private void readSchema() throws IOException {
        if (parser.currentToken() == JsonToken.VALUE_NULL) {
            return;
        }
        long start = parser.currentTokenLocation().getByteOffset();
        parser.skipChildren();
        long end = parser.currentLocation().getByteOffset();
        if (start >= 0 && end > start && end <= body.length) {
            schemas.add(new String(body, (int) start, (int) (end - start), java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private void readMessages() throws IOException {
        if (parser.currentToken() != JsonToken.START_ARRAY) {
            mismatch("messages", "an array of messages");
            return;
        }
        int index = 0;
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            readMessage(index++);
        }
        if (index == 0) {
            problems.add("messages", "empty array (expected: at least one message)");
        }
        messages = index;
    }

    private void readMessage(int index) throws IOException {
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            mismatch(messagePath(index), "an object");
            return;
        }
        int fields = 0;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            parser.nextToken();
            int field = name.equals("role") ? ROLE : name.equals("content") ? CONTENT : name.equals("name") ? NAME : 0;
            if (field == 0 && (name.equals("tool_calls") || name.equals("function_call"))) {
                readSchema(); // the calls' arguments are prompt the model reads back
                continue;
            }
            if (field == 0) {
                parser.skipChildren();
                continue;
            }
            if ((fields & field) != 0) {
                problems.add(messagePath(index) + "." + name, "duplicate key (the backend would read the last one)");
                parser.skipChildren();
                continue;
            }
            fields |= field;
            if (field == CONTENT) {
                readContent(index);
            } else if (parser.currentToken() == JsonToken.VALUE_STRING) {
                texts.add(parser.getText());
                names += field == NAME ? 1 : 0;
            } else if (field == ROLE || parser.currentToken() != JsonToken.VALUE_NULL) {
                mismatch(messagePath(index) + "." + name, "a string");
            }
        }
        if ((fields & ROLE) == 0) {
            problems.add(messagePath(index) + ".role", "missing (expected: a string such as user or assistant)");
        }
    }

    /** A string, null (an assistant message with tool calls) or an array of content parts. */
    private void readContent(int index) throws IOException {
        JsonToken token = parser.currentToken();
        if (token == JsonToken.VALUE_STRING) {
            texts.add(parser.getText());
        } else if (token == JsonToken.START_ARRAY) {
            int part = 0;
            while (parser.nextToken() != JsonToken.END_ARRAY) {
                readContentPart(index, part++);
            }
        } else if (token != JsonToken.VALUE_NULL) {
            mismatch(messagePath(index) + ".content", "a string or an array of content parts");
        }
    }

    /** Counts the text of {@code {"type":"text","text":...}}; other parts (images, audio, files) count nothing. */
    private void readContentPart(int index, int part) throws IOException {
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            mismatch(partPath(index, part), "an object");
            return;
        }
        String type = null;
        String text = null;
        String textGot = null;
        boolean typeSeen = false;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            if (name.equals("type")) {
                typeSeen = true;
                if (value == JsonToken.VALUE_STRING) {
                    type = parser.getText();
                } else {
                    mismatch(partPath(index, part) + ".type", "a string");
                }
            } else if (name.equals("text") && value == JsonToken.VALUE_STRING) {
                text = parser.getText();
            } else if (name.equals("text")) {
                textGot = Json.describe(parser); // wrong only if this turns out to be a text part
                parser.skipChildren();
            } else {
                parser.skipChildren();
            }
        }
        if (!typeSeen) {
            problems.add(partPath(index, part) + ".type", "missing (expected: a string such as text or image_url)");
        } else if (type != null && !type.equals("text")) {
            nonTextParts++; // an image, audio or file: see TokenEstimator.NON_TEXT_PART_TOKENS
        } else if ("text".equals(type)) {
            if (text != null) {
                texts.add(text);
            } else {
                problems.add(partPath(index, part) + ".text",
                        textGot == null ? "missing (expected: a string)" : "expected a string, got " + textGot);
            }
        }
    }

    /** A string, or an array of strings, of token ids, or of arrays of token ids; all elements alike. */
    private void readPrompts(String field) throws IOException {
        JsonToken token = parser.currentToken();
        if (token == JsonToken.VALUE_STRING) {
            texts.add(parser.getText());
            return;
        }
        if (token != JsonToken.START_ARRAY) {
            mismatch(field, "a string or an array");
            return;
        }
        JsonToken shape = null;
        int index = 0;
        for (JsonToken element; (element = parser.nextToken()) != JsonToken.END_ARRAY; index++) {
            if (shape == null && (element == JsonToken.VALUE_STRING || element == JsonToken.VALUE_NUMBER_INT
                    || element == JsonToken.START_ARRAY)) {
                shape = element;
            }
            if (element != shape) {
                mismatch(field + "[" + index + "]", expectedElement(field, shape));
            } else if (element == JsonToken.VALUE_STRING) {
                texts.add(parser.getText());
            } else if (element == JsonToken.VALUE_NUMBER_INT) {
                readTokenId(field, index, -1);
            } else {
                readTokenIds(field, index);
            }
        }
        if (index == 0) {
            problems.add(field, "empty array (expected: at least one string or token id)");
        }
        if (kind == RequestKind.COMPLETION && shape != JsonToken.VALUE_NUMBER_INT) {
            prompts = Math.max(1, index); // strings or token arrays: one prompt each, each with its own choices
        }
    }

    private static String expectedElement(String field, JsonToken shape) {
        if (shape == null) {
            return "a string, a token id or an array of token ids";
        }
        String like = " like " + field + "[0]";
        switch (shape) {
            case VALUE_STRING:
                return "a string" + like;
            case VALUE_NUMBER_INT:
                return "a token id" + like;
            default:
                return "an array of token ids" + like;
        }
    }

    private void readTokenIds(String field, int index) throws IOException {
        int inner = 0;
        for (JsonToken element; (element = parser.nextToken()) != JsonToken.END_ARRAY; inner++) {
            if (element == JsonToken.VALUE_NUMBER_INT) {
                readTokenId(field, index, inner);
            } else {
                mismatch(field + "[" + index + "][" + inner + "]", "a token id");
            }
        }
    }

    /** Counts the token id at {@code field[index]}, or {@code field[index][inner]} when {@code inner >= 0}. */
    private void readTokenId(String field, int index, int inner) throws IOException {
        if (parser.getNumberType() == JsonParser.NumberType.INT && parser.getIntValue() >= 0) {
            tokenIds++;
            return;
        }
        String path = field + "[" + index + "]" + (inner < 0 ? "" : "[" + inner + "]");
        problems.add(path, Json.describe(parser) + " (expected: a token id from 0 to " + Integer.MAX_VALUE + ")");
    }

    /** Records that the current value is not {@code expected}, and skips it. */
    private void mismatch(String param, String expected) throws IOException {
        problems.add(param, "expected " + expected + ", got " + Json.describe(parser));
        parser.skipChildren();
    }

    private static String messagePath(int index) {
        return "messages[" + index + "]";
    }

    private static String partPath(int index, int part) {
        return "messages[" + index + "].content[" + part + "]";
    }
}
