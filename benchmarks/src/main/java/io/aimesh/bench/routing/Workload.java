package io.aimesh.bench.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The requests of a routing run, drawn from a fixed seed: streaming chat completions whose prompt
 * and output lengths follow log-normal distributions (long-tailed, as measured on production LLM
 * traffic, e.g. the Splitwise and BurstGPT traces), a share of them opening with one of a few long
 * shared prefixes (system prompts, documents). Output lengths are exact: model-sim generates
 * {@code max_tokens} tokens. Lengths are in model-sim's tokens (4 characters each).
 *
 * @param medianPromptTokens median prompt length
 * @param medianOutputTokens median output length
 * @param sharedPrefixShare fraction of requests that open with a shared prefix
 */
record Workload(int medianPromptTokens, int medianOutputTokens, double sharedPrefixShare) {
    static final Workload DEFAULT = new Workload(256, 64, 0.3);

    private static final int PREFIXES = 8;
    private static final int PREFIX_TOKENS = 384;
    private static final double PROMPT_SIGMA = 0.8;
    private static final double OUTPUT_SIGMA = 0.6;
    private static final String[] WORDS = {"tensor", "kernel", "batch", "cache", "token", "queue", "model", "layer",
            "shard", "prefill", "decode", "latency", "memory", "stream", "weight", "vector"};

    /** One request: its JSON body and how many output tokens it asks for. */
    record Request(String body, int outputTokens) {
    }

    /** {@code count} requests from {@code seed}. */
    List<Request> draw(String model, int count, long seed) {
        Random random = new Random(seed);
        List<String> prefixes = new ArrayList<>();
        for (int i = 0; i < PREFIXES; i++) {
            prefixes.add(text(random, PREFIX_TOKENS));
        }
        List<Request> requests = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int prompt = clamp(logNormal(random, medianPromptTokens, PROMPT_SIGMA), 8, 4_000);
            int output = clamp(logNormal(random, medianOutputTokens, OUTPUT_SIGMA), 4, 1_000);
            String content = random.nextDouble() < sharedPrefixShare
                    ? prefixes.get(random.nextInt(PREFIXES)) + text(random, Math.max(8, prompt - PREFIX_TOKENS))
                    : text(random, prompt);
            String body = "{\"model\":\"" + model + "\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                    + "\"max_tokens\":" + output + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";
            requests.add(new Request(body, output));
        }
        return requests;
    }

    private static int logNormal(Random random, int median, double sigma) {
        return (int) Math.round(median * Math.exp(sigma * random.nextGaussian()));
    }

    private static int clamp(int value, int min, int max) {
        return Math.max(min, Math.min(max, value));
    }

    /** About {@code tokens} model-sim tokens of words: 4 characters a token. */
    private static String text(Random random, int tokens) {
        StringBuilder text = new StringBuilder(tokens * 4);
        while (text.length() < tokens * 4) {
            text.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
        }
        text.setLength(tokens * 4);
        return text.toString();
    }
}
