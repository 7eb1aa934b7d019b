package io.aimesh.bench.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The request mixes of a routing run, each drawn from a fixed seed: streaming chat completions
 * whose lengths follow log-normal distributions (long-tailed, as measured on production LLM traffic,
 * e.g. the Splitwise and BurstGPT traces), in shapes that decide whether a server's prefix cache and
 * its LoRA slots can pay off. Output lengths are exact: model-sim generates {@code max_tokens}
 * tokens. Lengths are in model-sim's tokens (4 characters each).
 *
 * <ul>
 *   <li>{@link #PLAIN}: independent prompts (median 256 tokens), 30 % opening with one of 8 shared
 *       384-token prefixes; output median 64.</li>
 *   <li>{@link #CHAT}: multi-turn conversations, 48 open at a time, each turn resending the whole
 *       conversation (its own 200-token system prompt, every earlier user and assistant message)
 *       plus a new user message (median 96); 2 to 12 turns (mean 6), then a new conversation takes
 *       its place; output median 96.</li>
 *   <li>{@link #SYSTEM_PROMPTS}: many users sharing a few long system prompts: 6 prompts of 1,200
 *       tokens, chosen with Zipf popularity (s = 1), then the user's own message (median 160);
 *       output median 64.</li>
 *   <li>{@link #RAG}: a shared 150-token instruction, then 2 or 3 distinct documents of 700 tokens
 *       from a pool of 100 (Zipf popularity, s = 1.1), then a question (median 40); output
 *       median 128.</li>
 *   <li>{@link #LORA}: {@value #ADAPTERS} LoRA adapters with Zipf popularity (s = 1) named as the
 *       request's {@code model}; independent prompts (median 256); output median 64.</li>
 * </ul>
 */
enum Workload {
    PLAIN, CHAT, SYSTEM_PROMPTS, RAG, LORA;

    /** Adapters of {@link #LORA}. */
    static final int ADAPTERS = 16;

    private static final double PROMPT_SIGMA = 0.8;
    private static final double OUTPUT_SIGMA = 0.6;
    private static final String[] WORDS = {"tensor", "kernel", "batch", "cache", "token", "queue", "model", "layer",
            "shard", "prefill", "decode", "latency", "memory", "stream", "weight", "vector"};

    /** One request: the model it names (the base model or an adapter), its JSON body, and its output tokens. */
    record Request(String model, String body, int outputTokens) {
    }

    /** The adapter names of {@link #LORA}, for the servers to load and the routes to map. */
    static List<String> adapters(String model) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < ADAPTERS; i++) {
            names.add(model + "-lora-" + i);
        }
        return names;
    }

    /** {@code count} requests of this shape for {@code model}, from {@code seed}. */
    List<Request> draw(String model, int count, long seed) {
        Random random = new Random(seed);
        List<Request> requests = new ArrayList<>(count);
        switch (this) {
            case PLAIN -> {
                List<String> prefixes = texts(random, 8, 384);
                for (int i = 0; i < count; i++) {
                    int prompt = clamp(logNormal(random, 256, PROMPT_SIGMA), 8, 4_000);
                    int output = output(random, 64);
                    String content = random.nextDouble() < 0.3
                            ? prefixes.get(random.nextInt(prefixes.size())) + text(random, Math.max(8, prompt - 384))
                            : text(random, prompt);
                    requests.add(request(model, List.of("user", content), output));
                }
            }
            case CHAT -> {
                List<List<String>> open = new ArrayList<>();
                List<Integer> turnsLeft = new ArrayList<>();
                for (int i = 0; i < 48; i++) {
                    open.add(newConversation(random));
                    turnsLeft.add(turns(random));
                }
                for (int i = 0; i < count; i++) {
                    int c = random.nextInt(open.size());
                    List<String> conversation = open.get(c);
                    conversation.add("user");
                    conversation.add(text(random, clamp(logNormal(random, 96, PROMPT_SIGMA), 4, 2_000)));
                    int output = output(random, 96);
                    requests.add(request(model, conversation, output));
                    // The client keeps the answer and resends it with the next turn.
                    conversation.add("assistant");
                    conversation.add(text(random, output));
                    int left = turnsLeft.get(c) - 1;
                    turnsLeft.set(c, left);
                    if (left == 0) {
                        open.set(c, newConversation(random));
                        turnsLeft.set(c, turns(random));
                    }
                }
            }
            case SYSTEM_PROMPTS -> {
                List<String> systems = texts(random, 6, 1_200);
                double[] popularity = zipf(systems.size(), 1.0);
                for (int i = 0; i < count; i++) {
                    String system = systems.get(pick(random, popularity));
                    String user = text(random, clamp(logNormal(random, 160, PROMPT_SIGMA), 4, 3_000));
                    requests.add(request(model, List.of("system", system, "user", user), output(random, 64)));
                }
            }
            case RAG -> {
                String instruction = text(random, 150);
                List<String> documents = texts(random, 100, 700);
                double[] popularity = zipf(documents.size(), 1.1);
                for (int i = 0; i < count; i++) {
                    StringBuilder context = new StringBuilder();
                    List<Integer> chosen = new ArrayList<>();
                    int k = 2 + random.nextInt(2);
                    while (chosen.size() < k) {
                        int d = pick(random, popularity);
                        if (!chosen.contains(d)) {
                            chosen.add(d);
                            context.append(documents.get(d));
                        }
                    }
                    String question = text(random, clamp(logNormal(random, 40, PROMPT_SIGMA), 4, 500));
                    requests.add(request(model, List.of("system", instruction, "user", context + question),
                            output(random, 128)));
                }
            }
            case LORA -> {
                List<String> adapters = adapters(model);
                double[] popularity = zipf(adapters.size(), 1.0);
                for (int i = 0; i < count; i++) {
                    String adapter = adapters.get(pick(random, popularity));
                    String content = text(random, clamp(logNormal(random, 256, PROMPT_SIGMA), 8, 4_000));
                    requests.add(request(adapter, List.of("user", content), output(random, 64)));
                }
            }
            default -> throw new AssertionError(this);
        }
        return requests;
    }

    /** A streaming chat request; {@code messages} alternates roles and contents. */
    private static Request request(String model, List<String> messages, int output) {
        StringBuilder body = new StringBuilder(64 + messages.stream().mapToInt(String::length).sum())
                .append("{\"model\":\"").append(model).append("\",\"stream\":true,\"stream_options\":{\"include_usage\":true},")
                .append("\"max_tokens\":").append(output).append(",\"messages\":[");
        for (int i = 0; i < messages.size(); i += 2) {
            body.append(i == 0 ? "" : ",").append("{\"role\":\"").append(messages.get(i)).append("\",\"content\":\"")
                    .append(messages.get(i + 1)).append("\"}");
        }
        return new Request(model, body.append("]}").toString(), output);
    }

    private static List<String> newConversation(Random random) {
        List<String> conversation = new ArrayList<>();
        conversation.add("system");
        conversation.add(text(random, 200));
        return conversation;
    }

    /** 2 to 12 turns, mean about 6: 2 plus a geometric number. */
    private static int turns(Random random) {
        int turns = 2;
        while (turns < 12 && random.nextDouble() < 0.8) {
            turns++;
        }
        return turns;
    }

    private static int output(Random random, int median) {
        return clamp(logNormal(random, median, OUTPUT_SIGMA), 4, 1_000);
    }

    /** Cumulative Zipf weights of ranks 1..n with exponent {@code s}. */
    static double[] zipf(int n, double s) {
        double[] cumulative = new double[n];
        double sum = 0;
        for (int rank = 1; rank <= n; rank++) {
            sum += 1 / Math.pow(rank, s);
            cumulative[rank - 1] = sum;
        }
        for (int i = 0; i < n; i++) {
            cumulative[i] /= sum;
        }
        return cumulative;
    }

    private static int pick(Random random, double[] cumulative) {
        double draw = random.nextDouble();
        for (int i = 0; i < cumulative.length; i++) {
            if (draw < cumulative[i]) {
                return i;
            }
        }
        return cumulative.length - 1;
    }

    private static List<String> texts(Random random, int count, int tokens) {
        List<String> texts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            texts.add(text(random, tokens));
        }
        return texts;
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
