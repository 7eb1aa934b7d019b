package io.aimesh.modelsim;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Serves the two completion endpoints: validates the request, draws its {@link OutcomeSampler
 * outcome}, applies the configured extra latency and failures, runs it as a {@link Sequence} on the
 * {@link InferenceEngine} and writes the answer whole or as server-sent events.
 *
 * <p>Output length: {@code max_completion_tokens} / {@code max_tokens} when given, capped at
 * {@value #MAX_OUTPUT_TOKENS} (finish reason {@code length}); otherwise the sampled natural length
 * (finish reason {@code stop}), cut to the context left after the prompt ({@code length}). The
 * context is the KV cache size: a prompt that leaves no room, or an explicit limit that does not
 * fit beside the prompt, is a 400 {@code context_length_exceeded}, as in vLLM.
 *
 * <p>Threading: called concurrently on HTTP executor threads; each call blocks its thread until its
 * sequence is done. A streaming client that disconnects is noticed at the next write and its sequence
 * is cancelled; a non-streaming one is noticed only when the answer is written.
 */
final class CompletionHandler {

    /** As large as the largest body a gateway may let through (64 MiB), so the gateway's limit is the one tested. */
    static final int MAX_BODY_BYTES = 64 << 20;
    static final int MAX_OUTPUT_TOKENS = 4096;
    static final long MAX_DRAINED_BYTES = 64L << 20;
    /** What a prediction assumes a request without a limit generates. */
    static final int UNKNOWN_OUTPUT_TOKENS = 256;

    private final String model;
    private final Set<String> adapters;
    private final InferenceEngine engine;
    private final OutcomeSampler sampler;
    /** Changed at run time by {@link ModelSimServer#injectFaults}. */
    private volatile long extraLatencyNanos;
    private final CountDownLatch shutdown;

    /** @param shutdown counted down when the server closes; ends extra-latency waits early */
    CompletionHandler(String model, List<String> adapters, InferenceEngine engine, OutcomeSampler sampler,
            long extraLatencyNanos, CountDownLatch shutdown) {
        this.model = model;
        this.adapters = Set.copyOf(adapters);
        this.engine = engine;
        this.sampler = sampler;
        this.extraLatencyNanos = extraLatencyNanos;
        this.shutdown = shutdown;
    }

    /**
     * The time to first token a chat completion with this body would see if it arrived now, or
     * {@link Long#MAX_VALUE} if this server would refuse it. The output length is its
     * {@code max_tokens} (or {@code max_completion_tokens}), else {@value #UNKNOWN_OUTPUT_TOKENS}.
     */
    long predictTtftNanos(byte[] body) {
        CompletionRequest request = CompletionRequestParser.parse(CompletionRequest.Kind.CHAT, body, engine.blockTokens())
                .request();
        if (request == null || (!request.model().equals(model) && !adapters.contains(request.model()))
                || checkContext(request) != null) {
            return Long.MAX_VALUE;
        }
        int output = Math.min(request.maxTokens().orElse(UNKNOWN_OUTPUT_TOKENS), MAX_OUTPUT_TOKENS);
        output = Math.max(1, Math.min(output, engine.kvCapacity() - request.promptTokens()));
        return engine.predictTtftNanos(request.promptTokens(), output, request.blocks(),
                request.model().equals(model) ? null : request.model());
    }

    void handle(HttpExchange exchange, CompletionRequest.Kind kind) throws IOException {
        byte[] body = readBody(exchange);
        if (body == null) {
            return;
        }
        CompletionRequestParser.Result parsed = CompletionRequestParser.parse(kind, body, engine.blockTokens());
        if (parsed.request() == null) {
            Responses.sendError(exchange, ApiError.invalidRequest(parsed.problems()));
            return;
        }
        CompletionRequest request = parsed.request();
        if (!request.model().equals(model) && !adapters.contains(request.model())) {
            Responses.sendError(exchange, ApiError.modelNotFound(request.model()));
            return;
        }
        ApiError tooLong = checkContext(request);
        if (tooLong != null) {
            Responses.sendError(exchange, tooLong);
            return;
        }
        OutcomeSampler.Outcome outcome = sampler.next();
        if (!awaitExtraLatency()) {
            Responses.sendError(exchange, ApiError.shuttingDown());
            return;
        }
        if (outcome.fail()) {
            Responses.sendError(exchange, ApiError.injectedFailure());
            return;
        }
        run(exchange, request, outcome);
    }

    private void run(HttpExchange exchange, CompletionRequest request, OutcomeSampler.Outcome outcome)
            throws IOException {
        int budget = engine.kvCapacity() - request.promptTokens();
        int outputTokens;
        String finishReason;
        if (request.maxTokens().isPresent()) {
            outputTokens = Math.min(request.maxTokens().getAsInt(), MAX_OUTPUT_TOKENS);
            finishReason = "length";
        } else {
            outputTokens = Math.min(outcome.naturalTokens(), Math.min(budget, MAX_OUTPUT_TOKENS));
            finishReason = outputTokens < outcome.naturalTokens() ? "length" : "stop";
        }
        CompletionFormat format = new CompletionFormat(request.kind(), request.model(), outcome.textSeed(),
                System.currentTimeMillis() / 1000, request.includeUsage());
        PseudoText text = new PseudoText(outcome.textSeed());
        Sequence seq = engine.submit(request.promptTokens(), outputTokens, request.blocks(),
                request.model().equals(model) ? null : request.model());
        try {
            if (request.stream()) {
                stream(exchange, seq, format, text, finishReason, request.includeUsage());
            } else {
                respond(exchange, seq, format, text, finishReason);
            }
        } catch (IOException e) {
            engine.cancel(seq);
            throw e;
        } catch (InterruptedException e) {
            engine.cancel(seq);
            Thread.currentThread().interrupt();
        }
    }

    private static void respond(HttpExchange exchange, Sequence seq, CompletionFormat format, PseudoText text,
            String finishReason) throws IOException, InterruptedException {
        if (seq.awaitTermination() != Sequence.State.FINISHED) {
            Responses.sendError(exchange, ApiError.shuttingDown());
            return;
        }
        StringBuilder answer = new StringBuilder(seq.outputTokens() * 6);
        for (int i = 0; i < seq.outputTokens(); i++) {
            answer.append(text.nextToken());
        }
        Responses.send(exchange, 200, Responses.JSON,
                format.response(answer.toString(), finishReason, seq.promptTokens(), seq.outputTokens()));
    }

    private static void stream(HttpExchange exchange, Sequence seq, CompletionFormat format, PseudoText text,
            String finishReason, boolean includeUsage) throws IOException, InterruptedException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
        exchange.getResponseHeaders().set("Cache-Control", "no-cache");
        exchange.sendResponseHeaders(200, 0); // chunked
        OutputStream out = exchange.getResponseBody();
        int sent = 0;
        while (true) {
            boolean done = seq.isDone(); // state before count: a done sequence's count is final
            int generated = seq.generated();
            for (; sent < generated; sent++) {
                out.write(format.tokenEvent(text.nextToken(), sent == 0));
                out.flush(); // one chunk per token, on the wire as soon as it exists
            }
            if (done) {
                break;
            }
            seq.awaitProgress(sent);
        }
        if (seq.state() == Sequence.State.FINISHED) {
            out.write(format.finishEvent(finishReason));
            if (includeUsage) {
                out.write(format.usageEvent(seq.promptTokens(), seq.outputTokens()));
            }
            out.write(CompletionFormat.DONE_EVENT);
        } else {
            out.write(CompletionFormat.errorEvent(ApiError.shuttingDown()));
        }
        out.flush();
    }

    private ApiError checkContext(CompletionRequest request) {
        int context = engine.kvCapacity();
        int prompt = request.promptTokens();
        if (prompt >= context) {
            return ApiError.contextLengthExceeded(request.promptParam() + ": " + prompt
                    + " tokens (expected: <= " + (context - 1) + "; the model's context is " + context
                    + " tokens including at least one output token)", request.promptParam());
        }
        if (request.maxTokens().isPresent()) {
            int max = Math.min(request.maxTokens().getAsInt(), MAX_OUTPUT_TOKENS);
            if ((long) prompt + max > context) {
                return ApiError.contextLengthExceeded("max_tokens: " + max + " with a " + prompt
                        + "-token prompt (expected: prompt + max_tokens <= " + context
                        + ", the model's context length)", "max_tokens");
            }
        }
        return null;
    }

    /** From now on, {@code failRate} of requests fail with 500 and every one waits {@code extraLatencyNanos} first. */
    void injectFaults(double failRate, long extraLatencyNanos) {
        sampler.failRate(failRate);
        this.extraLatencyNanos = extraLatencyNanos;
    }

    /** Waits the configured extra latency; returns false if the server closed meanwhile. */
    private boolean awaitExtraLatency() {
        if (extraLatencyNanos == 0) {
            return shutdown.getCount() > 0;
        }
        try {
            return !shutdown.await(extraLatencyNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Returns the body, or null after answering 413 to one over {@value #MAX_BODY_BYTES} bytes. An
     * oversized body is read and discarded (up to {@value #MAX_DRAINED_BYTES} bytes) before the answer:
     * closing a connection with unread request bytes makes the kernel reset it, and the client would
     * lose the 413.
     */
    static byte[] readBody(HttpExchange exchange) throws IOException {
        InputStream in = exchange.getRequestBody();
        byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
        if (body.length <= MAX_BODY_BYTES) {
            return body;
        }
        long drained = drain(in, MAX_DRAINED_BYTES);
        long total = body.length + drained;
        String declared = exchange.getRequestHeaders().getFirst("Content-Length");
        String size = declared != null ? declared
                : drained < MAX_DRAINED_BYTES ? Long.toString(total) : "more than " + total;
        Responses.sendError(exchange, ApiError.bodyTooLarge(size + " bytes", MAX_BODY_BYTES));
        return null;
    }

    private static long drain(InputStream in, long limit) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long drained = 0;
        for (int n; drained < limit && (n = in.read(buffer)) >= 0; ) {
            drained += n;
        }
        return drained;
    }
}
