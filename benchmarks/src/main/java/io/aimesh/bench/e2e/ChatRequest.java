package io.aimesh.bench.e2e;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The benchmark's request: a chat completion with {@code max_tokens: 1}, streamed or not, whose
 * one user message is English-like text from a fixed seed, padded so that the JSON body has an
 * exact size. English words, not filler bytes, so that the filter's BPE token count does the work
 * it does on real prompts.
 */
final class ChatRequest {
    static final String MODEL = "bench-model";
    static final String PATH = "/v1/chat/completions";
    /** The smallest body this class builds: the JSON around the message plus a few words. */
    static final int MIN_BODY_BYTES = 128;
    private static final long SEED = 20_240_917L;
    private static final List<String> WORDS = List.of("the", "model", "request", "token", "budget", "gateway", "of",
            "and", "to", "a", "in", "is", "that", "for", "latency", "with", "as", "on", "tenant", "it", "be", "by",
            "this", "are", "from", "at", "or", "an", "which", "route", "cluster", "envoy", "filter", "stream", "usage",
            "please", "summarize", "following", "paragraph", "about", "inference", "servers,", "queues", "and", "GPUs.",
            "Explain", "why", "p99", "matters", "more", "than", "the", "mean", "when", "users", "wait.");
    private static final String PREFIX = "{\"model\":\"" + MODEL + "\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"";
    private static final String STREAM_PREFIX = "{\"model\":\"" + MODEL + "\",\"max_tokens\":1,\"stream\":true,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"";
    private static final String SUFFIX = "\"}]}";

    private ChatRequest() {
    }

    /**
     * The JSON body, exactly {@code bodyBytes} long, the same for the same size.
     *
     * @param bodyBytes {@code >= }{@value #MIN_BODY_BYTES}
     */
    static String body(int bodyBytes) {
        return body(bodyBytes, false);
    }

    /** As {@link #body(int)}, asking for a stream of server-sent events when {@code stream}. */
    static String body(int bodyBytes, boolean stream) {
        if (bodyBytes < MIN_BODY_BYTES) {
            throw new IllegalArgumentException("bodyBytes: " + bodyBytes + " (expected: >= " + MIN_BODY_BYTES + ")");
        }
        String prefix = stream ? STREAM_PREFIX : PREFIX;
        int textLength = bodyBytes - prefix.length() - SUFFIX.length();
        SplittableRandom random = new SplittableRandom(SEED);
        StringBuilder text = new StringBuilder(textLength + 16);
        while (text.length() < textLength) {
            if (text.length() > 0) {
                text.append(' ');
            }
            text.append(WORDS.get(random.nextInt(WORDS.size())));
        }
        text.setLength(textLength);
        if (text.charAt(textLength - 1) == ' ') {
            text.setCharAt(textLength - 1, '.');
        }
        return prefix + text + SUFFIX;
    }

    /**
     * The whole HTTP/1.1 request, headers and body, as the generator writes it.
     *
     * @param apiKey sent as {@code authorization: Bearer}; every path gets the same bytes
     */
    static byte[] http(int bodyBytes, String apiKey) {
        return http(bodyBytes, apiKey, false);
    }

    /** As {@link #http(int, String)}, streamed when {@code stream}. */
    static byte[] http(int bodyBytes, String apiKey, boolean stream) {
        String body = body(bodyBytes, stream);
        String head = "POST " + PATH + " HTTP/1.1\r\n"
                + "host: aimesh-bench\r\n"
                + "content-type: application/json\r\n"
                + "authorization: Bearer " + apiKey + "\r\n"
                + "content-length: " + body.length() + "\r\n"
                + "\r\n";
        return (head + body).getBytes(US_ASCII);
    }
}
