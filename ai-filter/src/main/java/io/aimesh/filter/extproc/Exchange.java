package io.aimesh.filter.extproc;

import com.google.protobuf.ByteString;
import io.aimesh.filter.api.Money;
import io.aimesh.filter.api.WireContract;
import io.aimesh.filter.body.ParsedRequest;
import io.aimesh.filter.config.SpendPlan;
import io.aimesh.filter.limit.Admission;
import io.aimesh.filter.limit.Denial;
import io.aimesh.filter.limit.RateLimitHeaders;
import io.aimesh.filter.limit.Reservation;
import io.aimesh.filter.report.VersionRecorder;
import io.aimesh.filter.spend.SpendAdmission;
import io.aimesh.picker.Endpoint;
import io.aimesh.picker.InFlight;
import io.aimesh.picker.PoolPicker;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The accounting of one admitted (or refused) inference request: its reservation, the body
 * rewrite that asks a streaming backend for usage, the response reading that finds the real
 * usage, and the one reconciliation at the end. Confined to its request's ext_proc stream.
 */
final class Exchange {
    private final FilterContext context;
    private final String model;
    private final String tenant;
    private final ParsedRequest request;
    private final Admission admission;
    private final long estimatedInput;
    private final long reservedOutput;
    private final ByteString rewrittenBody;
    private final long outputAllowance;
    /** Output tokens delivered before a stream was cut at its budget, or -1 while it was not. */
    private long cutAt = -1;
    private ResponseReader reader;
    /** The response status, from the first response body message; 200 until then. */
    private int status = 200;
    /** The first bytes of a failed (non-2xx) answer's body, to tell Envoy's own refusals apart. */
    private ByteString failureHead = ByteString.EMPTY;
    private boolean firstByteSeen;
    /** System.nanoTime() of the first response byte, when {@link #firstByteSeen}. */
    private long firstByteAt;
    /** Whether the response body is an event stream. */
    private boolean eventStream;
    /** Whether a reservation is outstanding. */
    private boolean reserved;
    /** Whether the request's usage has been accounted (once, whichever way the stream ends). */
    private boolean done;
    /** The request at the endpoint the filter picked for it, or {@code null}. */
    private InFlight inFlight;
    /** Told when the request leaves its endpoint: a waiting request of the pool may take its place. */
    private Runnable onLeave;
    /** The spend ledger's answer, or {@code null} when no spend budget applies. */
    private final SpendAdmission spend;
    private final SpendPlan plan;
    /** The version the request went to ({@code null}: the route's price applies). */
    private String version;

    /**
     * @param admission the limiter's answer, or {@code null} for a request of no tenant (no limits)
     */
    Exchange(FilterContext context, String model, String tenant, ParsedRequest request, Admission admission,
             long estimatedInput, long reservedOutput, ByteString rewrittenBody, boolean cutOverruns, SpendAdmission spend,
             SpendPlan plan) {
        this.spend = spend;
        this.plan = plan;
        this.context = context;
        this.model = model;
        this.tenant = tenant;
        this.request = request;
        this.admission = admission;
        this.estimatedInput = estimatedInput;
        this.reservedOutput = reservedOutput;
        this.rewrittenBody = rewrittenBody;
        reserved = (admission == null || admission.admitted()) && (spend == null || spend.admitted())
                && (admission != null || spend != null);
        // A stream may produce what was reserved for it plus what its tightest budget had left.
        this.outputAllowance = cutOverruns && reserved && admission != null && admission.headers().hasTokens()
                ? reservedOutput + admission.headers().remainingTokens() : Long.MAX_VALUE;
        if (reserved) {
            context.metrics().reserved();
        }
    }

    /** The request's estimated tokens: its prompt and the output it may produce; its cost in a pool's fair share. */
    long estimatedTokens() {
        return estimatedInput + reservedOutput;
    }

    /** The 429 to answer with, or {@code null} when admitted. */
    ErrorReply denial() {
        if (spend != null && !spend.admitted()) {
            SpendAdmission.Remaining refused = spend.remaining();
            return ErrorReply.budgetExceeded(tenant, model, refused.rule().level().label(), refused.rule().account(),
                    refused.rule().period().label(), Money.format(refused.micros()), plan.currency(),
                    refused.resetsAt().toString(), spend.refusal() == SpendAdmission.Refusal.LEASE_SPENT);
        }
        if (admission == null || admission.admitted()) {
            return null;
        }
        Denial denial = admission.denial();
        String scope = denial.scope().equals("*") ? model : denial.scope();
        String window = window(denial.window());
        if (denial.tooLarge()) {
            return ErrorReply.requestTooLarge(tenant, model, scope, window, estimatedTokens(), limitName(denial));
        }
        return ErrorReply.rateLimited(denial.limit().equals(Denial.REQUESTS) ? "requests" : "tokens", tenant, model, scope,
                window, retryAfter(), limitName(denial));
    }

    /**
     * {@code retry-after} seconds for a denial, else {@code null}; {@code null} too for a request
     * too large for its budget, since no retry can help it.
     */
    String retryAfter() {
        if (spend != null && !spend.admitted()) {
            // Shared budgets free a lease within a report; an exhausted one only when its period ends.
            return spend.refusal() == SpendAdmission.Refusal.LEASE_SPENT ? "1" : HeaderFormat.retryAfterSeconds(
                    Math.max(1_000, spend.remaining().resetsAt().toEpochMilli() - System.currentTimeMillis()));
        }
        return admission == null || admission.admitted() || admission.denial().tooLarge() ? null
                : HeaderFormat.retryAfterSeconds(admission.denial().retryAfterMillis());
    }

    /** The request body to send upstream instead of the client's, or {@code null} to keep it. */
    ByteString rewrittenBody() {
        return rewrittenBody;
    }

    /** OpenAI's {@code x-ratelimit-*} headers for this request, empty for a tenant without limits. */
    List<HeaderValue> rateLimitHeaders() {
        List<HeaderValue> headers = new ArrayList<>(8);
        if (spend != null && spend.remaining() != null) {
            headers.add(ProcessingResponses.value(WireContract.BUDGET_REMAINING_HEADER, Money.format(spend.remaining().micros())));
            headers.add(ProcessingResponses.value(WireContract.BUDGET_RESET_HEADER, spend.remaining().resetsAt().toString()));
        }
        if (admission == null) {
            return headers;
        }
        RateLimitHeaders values = admission.headers();
        if (values.hasTokens()) {
            headers.add(ProcessingResponses.value("x-ratelimit-limit-tokens", Long.toString(values.limitTokens())));
            headers.add(ProcessingResponses.value("x-ratelimit-remaining-tokens", Long.toString(values.remainingTokens())));
            headers.add(ProcessingResponses.value("x-ratelimit-reset-tokens", HeaderFormat.duration(values.resetTokensMillis())));
        }
        if (values.hasRequests()) {
            headers.add(ProcessingResponses.value("x-ratelimit-limit-requests", Long.toString(values.limitRequests())));
            headers.add(ProcessingResponses.value("x-ratelimit-remaining-requests", Long.toString(values.remainingRequests())));
            headers.add(ProcessingResponses.value("x-ratelimit-reset-requests", HeaderFormat.duration(values.resetRequestsMillis())));
        }
        return headers;
    }

    /**
     * The request goes to {@code endpoint}, picked in {@code picker}'s pool: counted in flight there
     * until it ends, when {@code onLeave} runs.
     */
    void routedTo(PoolPicker picker, Endpoint endpoint, Runnable onLeave) {
        this.onLeave = onLeave;
        this.inFlight = picker.started(endpoint);
    }

    /** Whether the request was sent to an endpoint it has not left yet. */
    boolean routed() {
        return inFlight != null;
    }

    /** Ends the request's in-flight count at its endpoint, once. */
    private void leaveEndpoint() {
        if (inFlight != null) {
            inFlight.finished();
            inFlight = null;
            onLeave.run();
        }
    }

    /** The response's status, as Envoy reports it on the first response body message. */
    void answered(int status) {
        this.status = status;
    }

    /**
     * The body starts: read it as SSE or as one JSON document, whatever the status, since usage is
     * charged wherever it appears. Only a successful stream has its usage event hidden.
     */
    void responseStarted(boolean sse) {
        eventStream = sse;
        reader = new ResponseReader(sse, succeeded(status) && rewrittenBody != null && request.stream());
    }

    /** Whether response body chunks are being read (the body has started). */
    boolean reading() {
        return reader != null;
    }

    /** Reads one response body message; returns the replacement chunk, or {@code null} to pass it unchanged. */
    ByteString onResponseBody(ByteString chunk, boolean endOfStream, long startNanos) {
        if (!firstByteSeen && !chunk.isEmpty()) {
            firstByteSeen = true;
            firstByteAt = System.nanoTime();
            long nanos = firstByteAt - startNanos;
            context.metrics().firstToken(model, nanos);
            if (inFlight != null) {
                inFlight.firstToken(nanos);
            }
        }
        if (reader == null) {
            return null;
        }
        if (!succeeded(status) && failureHead.size() < FailedAnswer.HEAD_BYTES) {
            failureHead = failureHead.concat(chunk.substring(0, Math.min(chunk.size(), FailedAnswer.HEAD_BYTES - failureHead.size())));
        }
        if (cutAt >= 0) {
            reader.read(chunk, endOfStream); // still read: the usage event may come
            return ByteString.EMPTY;
        }
        ByteString out = reader.read(chunk, endOfStream);
        if (reader.streamedTokens() > outputAllowance) {
            cutAt = outputAllowance;
            return OVERRUN_END;
        }
        return out;
    }

    /**
     * What a client sees of a stream cut at its budget: an OpenAI-style error event, then the
     * end of the stream. The model server's remaining chunks are dropped.
     */
    private static final ByteString OVERRUN_END = ByteString.copyFromUtf8("data: {\"error\":{\"message\":"
            + "\"Rate limit reached: the token budget ran out during this stream.\",\"type\":\"tokens\","
            + "\"param\":null,\"code\":\"rate_limit_exceeded\"}}\n\ndata: [DONE]\n\n");

    /** Whether the response's first body bytes have come. */
    boolean firstByteSeen() {
        return firstByteSeen;
    }

    /**
     * Tells {@code recorder} how the request sent to {@code version} went: its status ({@code reset}:
     * the stream ended before the response did), time to first byte from {@code startNanos} (unless
     * {@code ttftCounted}: it was counted as late already), and for a stream of two tokens or more the
     * time per output token after the first.
     */
    void measured(VersionRecorder recorder, String version, long startNanos, boolean reset, boolean ttftCounted) {
        long now = System.nanoTime();
        long output = -1;
        if (reader != null && reader.usage() != null) {
            output = reader.usage().completionTokens();
        } else if (reader != null && reader.streamedTokens() > 0) {
            output = reader.streamedTokens();
        }
        long tpot = eventStream && firstByteSeen && output >= 2 ? (now - firstByteAt) / (output - 1) : -1;
        recorder.ended(model, version, reset ? 0 : status, firstByteSeen && !ttftCounted ? firstByteAt - startNanos : -1,
                tpot, output);
    }

    /** The request failed before a model produced anything: refund the whole reservation. */
    void release() {
        leaveEndpoint();
        if (done) {
            return;
        }
        done = true;
        refund();
    }

    private void refund() {
        if (reserved) {
            reserved = false;
            if (admission != null) {
                admission.reservation().release();
            }
            if (spend != null) {
                spend.reservation().release();
            }
            context.metrics().settled();
        }
    }

    /** The request goes to {@code version} of the model ({@code null}: Envoy's routes choose): its price is charged. */
    void pricedAs(String version) {
        this.version = version;
    }

    /**
     * Settles the spend reservation at the cost of {@code input} prompt tokens ({@code cached} of
     * them from cache) and {@code output} tokens, at the version's price; {@code output < 0} keeps
     * the whole reservation (nothing is known of what ran).
     */
    private void charge(long input, long cached, long output) {
        if (spend == null) {
            return;
        }
        long cost = output < 0 ? spend.reservation().micros() : plan.price(model, version).cost(input, cached, output);
        spend.reservation().settle(model, cost);
        context.metrics().spent(spend.reservation(), model, cost);
    }

    /** Charges {@code input} and {@code output} tokens as the request's usage, once (a coalesced call's share). */
    void settleWith(long input, long output) {
        leaveEndpoint();
        if (done) {
            return;
        }
        done = true;
        context.metrics().usage(model, tenant, input, output);
        if (reserved) {
            reserved = false;
            if (admission != null) {
                admission.reservation().reconcile(input, output);
            }
            charge(input, 0, output);
            context.metrics().settled();
        }
    }

    /**
     * Charges what was really used, once, by {@link FailedAnswer#of}'s rules: the backend's usage
     * when it reported one, whatever the status; else the input estimate plus the output tokens
     * counted in the stream; else, for a failed answer, by its status; else (a response never read,
     * or one without usage) the whole reservation stays charged.
     */
    void settle() {
        leaveEndpoint();
        if (done) {
            return;
        }
        done = true;
        long input = estimatedInput;
        long cached = 0;
        long output = -1;
        FailedAnswer charge = FailedAnswer.of(status, reader != null && reader.usage() != null,
                reader == null ? 0 : reader.streamedTokens(), failureHead);
        switch (charge) {
            case USAGE -> {
                input = reader.usage().promptTokens();
                cached = reader.usage().cachedTokens();
                output = reader.usage().completionTokens();
            }
            case STREAMED -> output = reader.streamedTokens();
            case INPUT -> output = 0;
            case NOTHING -> {
                refund();
                return;
            }
            case RESERVATION -> output = -1;
        }
        if (cutAt >= 0) {
            output = Math.min(output < 0 ? cutAt : output, cutAt); // charge what the client received
        }
        if (output >= 0) {
            context.metrics().usage(model, tenant, input, output);
        }
        if (reserved) {
            reserved = false;
            if (output >= 0 && admission != null) {
                Reservation reservation = admission.reservation();
                reservation.reconcile(input, output);
            }
            charge(input, cached, output);
            context.metrics().settled();
        }
    }

    /**
     * The refusing limit's name in logs and {@code x-aimesh-decision}: {@code TENANT:LIMIT-ID}, e.g.
     * {@code acme:llama:tokens-per-minute:total} (the control plane names limits, see
     * FilterConfigCompiler), or {@code acme:requests-per-minute}.
     */
    static String limitName(Denial denial) {
        return denial.tenant() + ":" + (denial.limit().equals(Denial.REQUESTS) ? "requests-per-minute" : denial.limit());
    }

    private static boolean succeeded(int status) {
        return status >= 200 && status < 300;
    }

    private static String window(Duration window) {
        long seconds = window.toSeconds();
        return seconds == 60 ? "1m" : seconds == 3600 ? "1h" : seconds == 86_400 ? "1d" : seconds + "s";
    }
}
