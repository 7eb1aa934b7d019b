package io.aimesh.filter.extproc;

import com.google.protobuf.ByteString;
import io.aimesh.filter.body.RequestKind;
import io.aimesh.filter.config.RouteRule;
import io.aimesh.filter.config.RuntimeConfig;
import io.aimesh.picker.Endpoint;
import io.aimesh.picker.PoolPicker;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;

/**
 * One HTTP request's trip through the filter: one ext_proc stream, from request headers to the end
 * of the response, as named stages, each in a class of its own with its own test:
 *
 * <ol>
 *   <li>Request headers: {@link IdentifyStage} removes client-sent internal headers and identifies
 *       the tenant (401 when tenants exist and none matches). Answered at once; Envoy sends the
 *       body without waiting.</li>
 *   <li>Request body: {@link ParseStage} (400, 413, 415), {@link AuthorizeStage} (404, 403),
 *       {@link AdmitStage} (429 with OpenAI's headers), then a coalesced call for embeddings that
 *       can share one, else {@link RouteStage} (the version), {@link PickStage} (the endpoint, maybe
 *       after a wait; 429 when saturated) and {@link ForwardStage} (the model header, a cleared route
 *       cache, the rate-limit headers as dynamic metadata for the response).</li>
 *   <li>Response body: {@link CountStage} reads usage (or counts streamed tokens), hides the usage
 *       event the client did not ask for, and the reservation is settled at the end.</li>
 * </ol>
 *
 * <p>Threading: gRPC delivers one stream's messages one at a time, on the stream's event loop; a
 * request that waited for an endpoint is resumed from another thread (see {@link WaitingRoom}), so
 * the entry points are synchronized (uncontended but for that hand-over).
 */
final class RequestProcessor implements StreamObserver<ProcessingRequest> {
    private static final System.Logger LOG = System.getLogger(RequestProcessor.class.getName());

    private final StreamObserver<ProcessingResponse> responses;
    private final FilterContext context;
    private final RequestState state = new RequestState();
    private PickStage pick;
    /** Whether a response body message has come (the first carries the status). */
    private boolean responseSeen;
    /**
     * The response attributes (status, cluster) when the response headers brought them: Envoy sends
     * attributes with the first message of the response, the headers when a plugin needs those.
     */
    private com.google.protobuf.Struct responseAttributes;
    private boolean finished;
    /** Whether the request went to a version the filter chose and its end is still to be measured. */
    private boolean measuring;
    /** The check that counts the request as late when its first byte is overdue (a rollout's canary), or null. */
    private java.util.concurrent.ScheduledFuture<?> lateCheck;
    /** Whether its time to first token was counted as late already. */
    private boolean counted;

    /**
     * The version Envoy's weighted split sent the request to, known from the upstream cluster of the
     * response ({@code xds.cluster_name}); null until then, or when the filter chose the version.
     */
    private String routeVersion;

    RequestProcessor(StreamObserver<ProcessingResponse> responses, FilterContext context) {
        this.responses = responses;
        this.context = context;
    }

    @Override
    public synchronized void onNext(ProcessingRequest request) {
        if (finished) {
            return;
        }
        try {
            switch (request.getRequestCase()) {
                case REQUEST_HEADERS -> onRequestHeaders(request);
                case REQUEST_BODY -> onRequestBody(request.getRequestBody());
                // Sent only when a plugin of the Gateway runs on response headers.
                case RESPONSE_HEADERS -> onResponseHeaders(request);
                case RESPONSE_BODY -> onResponseBody(request);
                case REQUEST_TRAILERS -> responses.onNext(ProcessingResponses.requestTrailers());
                case RESPONSE_TRAILERS -> responses.onNext(ProcessingResponses.responseTrailers());
                default -> LOG.log(Level.DEBUG, "ignoring ext_proc message " + request.getRequestCase());
            }
        } catch (RuntimeException e) {
            // A bug in one request must not take the filter down for others: answer 500 for this one.
            LOG.log(Level.ERROR, "request " + state.requestId + " failed in the filter", e);
            context.metrics().outcome(Outcome.ERROR, state.modelName(), state.tenantName());
            finish(ProcessingResponses.immediate(ErrorReply.filterFailure(), null));
        }
    }

    private void onRequestHeaders(ProcessingRequest request) {
        state.config = context.config();
        if (state.config == null) {
            finish(ProcessingResponses.immediate(ErrorReply.noConfig(), "1"));
            return;
        }
        List<String> remove = new ArrayList<>();
        ErrorReply refusal = IdentifyStage.identify(request, state, remove);
        if (refusal != null) {
            deny(refusal);
            return;
        }
        if (state.inference && !context.plugins().current().isEmpty()) {
            state.pluginHeaders = new ArrayList<>();
            for (io.envoyproxy.envoy.config.core.v3.HeaderValue header : request.getRequestHeaders().getHeaders().getHeadersList()) {
                if (!remove.contains(header.getKey())) {
                    state.pluginHeaders.add(java.util.Map.entry(header.getKey(), header.getRawValue().isEmpty() ? header.getValue()
                            : header.getRawValue().toStringUtf8()));
                }
            }
        }
        responses.onNext(ProcessingResponses.requestHeaders(remove));
    }

    private void onRequestBody(HttpBody body) {
        if (!state.inference) {
            responses.onNext(ProcessingResponses.requestBody(null, null, List.of()));
            return;
        }
        ByteString bytes = body.getBody();
        PluginStage.Changes changes = PluginStage.run(context, state, bytes);
        if (changes.reply() != null) {
            pluginAnswer(changes);
            return;
        }
        state.pluginChanges = changes;
        bytes = changes.body() != null ? changes.body() : bytes;
        state.body = bytes;
        ErrorReply refusal = ParseStage.parse(context, state, bytes);
        if (refusal == null) {
            refusal = AuthorizeStage.authorize(state);
        }
        if (refusal == null) {
            refusal = AdmitStage.admit(context, state, bytes);
        }
        if (refusal != null) {
            deny(refusal);
            return;
        }
        if (coalesce()) {
            return; // answered when the shared call's result is in
        }
        refusal = RouteStage.route(state);
        if (refusal != null) {
            state.exchange.release();
            deny(refusal);
            return;
        }
        PoolPicker picker = state.version == null ? null : context.pickers().get(state.version.pool());
        if (picker == null) {
            forward(state.version == null ? null : state.version.pool(), null); // a pool Envoy balances
            return;
        }
        pick = new PickStage(context, state, this);
        pick.start(state.version.pool(), picker);
    }

    /**
     * Hands an embeddings request of a coalescing model to the coalescer (string inputs without
     * per-request options only, and not for a tenant with a dedicated pool of the model: a shared
     * call goes to shared versions).
     *
     * @return whether it was taken: its answer then comes from {@link #coalesced}
     */
    private boolean coalesce() {
        RuntimeConfig.CoalesceInfo settings = state.model.coalesce();
        if (settings == null || state.parsed.kind() != RequestKind.EMBEDDING || state.parsed.promptTokenIds() > 0
                || state.parsed.promptTexts().isEmpty() || state.parsed.embeddingOptions()
                || state.model.dedicatedTo(state.tenantName())) {
            return false;
        }
        state.rule(RouteRule.COALESCED);
        // Answered before Envoy's message timeout, as a queued request is.
        return context.coalescer().submit(state.model.name(), settings, state.parsed.promptTexts(),
                state.config.queueWaitNanos(java.time.Duration.ofDays(1)), this::coalesced);
    }

    /** The shared call's result for this request: answer the client with its slice and charge its share. */
    private synchronized void coalesced(EmbeddingCoalescer.Slice slice) {
        Exchange exchange = state.exchange;
        if (slice.status() == 200 && slice.promptTokens() >= 0) {
            exchange.settleWith(slice.promptTokens(), 0);
        } else if (slice.status() == 200) {
            exchange.settle(); // the backend reported no usage: the estimate stands
        } else {
            exchange.release();
        }
        if (finished) {
            return; // the client left; the model server did the work all the same
        }
        context.metrics().outcome(slice.status() == 200 ? Outcome.ADMITTED : Outcome.ERROR, state.modelName(),
                state.tenantName());
        String decision = Outcome.ADMITTED.label() + " rule=" + RouteRule.COALESCED.label() + " call_requests="
                + slice.callRequests() + (state.tenant == null ? "" : " tenant=" + state.tenant.name() + " priority="
                + state.priority.label());
        done();
        finish(ProcessingResponses.immediateJson(slice.status(), slice.body(), decision, exchange.rateLimitHeaders()));
    }

    /** {@link ForwardStage}: lets the request go to {@code pool} ({@code null}: Envoy's routes) and {@code endpoint}. */
    void forward(String pool, Endpoint endpoint) {
        context.metrics().outcome(Outcome.ADMITTED, state.modelName(), state.tenantName());
        state.exchange.pricedAs(state.version == null ? null : state.version.name());
        ProcessingResponse response = ForwardStage.forward(state, pool, endpoint, pick == null ? 0 : pick.waitedNanos());
        // With an Envoy split the version is known from the response's cluster (see routeVersion).
        measuring = state.model.versioned();
        if (state.version != null) {
            watchForLateness();
        }
        if (LOG.isLoggable(Level.DEBUG)) { // one line per admitted request: too many for INFO
            LOG.log(Level.DEBUG, "decision=" + ForwardStage.decision(state, pool, pick == null ? 0 : pick.waitedNanos())
                    + " request_id=" + state.requestId);
        }
        responses.onNext(response);
        mirror();
    }

    /**
     * Sends a shadow copy of the forwarded request, when its model mirrors one in {@code percent}
     * to a version the request did not go to and its tenant may reach. After the answer to Envoy:
     * the copy never delays the request.
     */
    private void mirror() {
        RuntimeConfig.MirrorInfo mirror = state.model.mirror();
        if (mirror == null || state.model.mirrorFor(state.version, state.tenantName()) == null
                || java.util.concurrent.ThreadLocalRandom.current().nextInt(100) >= mirror.percent()) {
            return;
        }
        ByteString rewritten = state.exchange.rewrittenBody();
        String pool = mirror.version().pool();
        ShadowSender.Copy copy = new ShadowSender.Copy(state.model.name(), state.path,
                (rewritten != null ? rewritten : state.body).toByteArray(), state.tenantName(),
                String.join("\n", state.parsed.promptTexts()));
        PoolPicker picker = mirror.endpoints().isEmpty() ? context.pickers().get(pool) : null;
        context.shadows().send(copy, mirror, picker, picker == null ? 0 : context.waitingRoom().waiting(pool));
    }

    /**
     * The pool is saturated and this request is the one to go: refuse it with 429 and the pool's
     * retry-after; its reservation is returned.
     */
    void shed(String pool, ShedReason reason) {
        state.exchange.release();
        RuntimeConfig.PoolInfo info = state.config.pools().get(pool);
        long retryAfter = info == null ? 1 : info.retryAfterSeconds();
        ErrorReply reply = ErrorReply.overloaded(state.model.name(), retryAfter, reason, pool, state.tenantName(), state.priority);
        context.metrics().outcome(Outcome.SHED, state.modelName(), state.tenantName());
        if (state.version != null) {
            context.versions().shed(state.model.name(), state.version.name());
        }
        LOG.log(Level.INFO, "decision=" + reply.decision() + " status=429 request_id=" + state.requestId
                + " retry_after_s=" + retryAfter);
        finish(ProcessingResponses.immediate(reply, Long.toString(retryAfter), List.of()));
    }

    /** A plugin's own answer, or a plugin's failure, in place of the request or its response. */
    private void pluginAnswer(PluginStage.Changes changes) {
        if (changes.json() != null) {
            context.metrics().outcome(changes.reply().outcome(), state.modelName(), state.tenantName());
            finish(ProcessingResponses.immediateJson(changes.reply().status(), changes.json(), changes.reply().decision(),
                    changes.replyHeaders()));
        } else {
            deny(changes.reply(), changes.replyHeaders());
        }
    }

    /** The response headers: the plugins' response headers phase (the message comes only when a plugin has one). */
    private void onResponseHeaders(ProcessingRequest request) {
        responseAttributes = request.getAttributesMap().get(CountStage.ATTRIBUTES_KEY);
        PluginStage plugins = state.plugins;
        if (plugins == null) {
            responses.onNext(ProcessingResponses.responseHeaders(List.of()));
            return;
        }
        List<java.util.Map.Entry<String, String>> headers = new ArrayList<>();
        for (io.envoyproxy.envoy.config.core.v3.HeaderValue header : request.getResponseHeaders().getHeaders().getHeadersList()) {
            headers.add(java.util.Map.entry(header.getKey(), header.getRawValue().isEmpty() ? header.getValue()
                    : header.getRawValue().toStringUtf8()));
        }
        PluginStage.Changes changes = plugins.responseHeaders(headers, request.getResponseHeaders().getEndOfStream());
        if (changes.reply() != null) {
            if (state.exchange != null) {
                done(); // the model answered; what it used is charged
            }
            pluginAnswer(changes);
            return;
        }
        responses.onNext(ProcessingResponses.responseHeaders(changes.set(), changes.removed()));
    }

    /** A response body message: {@link CountStage}, and the settlement at the end of the body. */
    private void onResponseBody(ProcessingRequest message) {
        Exchange exchange = state.exchange;
        if (exchange == null) {
            responses.onNext(ProcessingResponses.responseBody(null));
            return;
        }
        boolean first = !responseSeen;
        ProcessingRequest request = first && responseAttributes != null && !message.containsAttributes(CountStage.ATTRIBUTES_KEY)
                ? message.toBuilder().putAttributes(CountStage.ATTRIBUTES_KEY, responseAttributes).build() : message;
        responseSeen = true;
        if (first && state.version == null && state.model != null) {
            routeVersion = state.model.versionOfPool(CountStage.upstreamPool(request));
        }
        ByteString replacement = CountStage.count(exchange, request, first, state.startNanos);
        boolean end = request.getResponseBody().getEndOfStream();
        if (state.plugins != null) {
            ByteString seen = replacement != null ? replacement : request.getResponseBody().getBody();
            ByteString after = state.plugins.responseBody(seen, end);
            if (after == PluginStage.CUT) {
                done();
                deny(ErrorReply.pluginFailure("response"), List.of()); // headers went out: Envoy resets the stream
                return;
            }
            replacement = after != null ? after : replacement;
        }
        if (end) {
            done();
        }
        responses.onNext(ProcessingResponses.responseBody(replacement));
    }

    private void deny(ErrorReply reply) {
        deny(reply, List.of());
    }

    /** Refuses with {@code reply}, and {@code headers} (a plugin's) beside the filter's own. */
    private void deny(ErrorReply reply, List<io.envoyproxy.envoy.config.core.v3.HeaderValue> headers) {
        context.metrics().outcome(reply.outcome(), state.modelName(), state.tenantName());
        Exchange exchange = state.exchange;
        String retryAfter = exchange == null ? null : exchange.retryAfter();
        // One key=value line per refusal: the decision (its first word) and the rule, as in x-aimesh-decision.
        LOG.log(reply.status() >= 500 ? Level.WARNING : Level.INFO, "decision=" + reply.decision()
                + " status=" + reply.status() + " request_id=" + state.requestId
                + (retryAfter == null ? "" : " retry_after_s=" + retryAfter));
        List<io.envoyproxy.envoy.config.core.v3.HeaderValue> extra = new ArrayList<>(headers);
        if (exchange != null) {
            extra.addAll(exchange.rateLimitHeaders());
        }
        finish(ProcessingResponses.immediate(reply, retryAfter, extra));
    }

    private void done() {
        if (state.plugins != null) {
            state.plugins.close();
        }
        if (state.exchange != null) {
            measure(false);
            state.exchange.settle();
        }
        context.metrics().finished(state.modelName(), System.nanoTime() - state.startNanos);
    }

    private void finish(ProcessingResponse response) {
        finished = true;
        if (state.plugins != null) {
            state.plugins.close(); // answered here: no response for them to see
        }
        responses.onNext(response);
    }

    /** Whether the request has been answered or abandoned; called under this processor's lock. */
    boolean finished() {
        return finished;
    }

    @Override
    public synchronized void onError(Throwable t) {
        abandon();
    }

    @Override
    public synchronized void onCompleted() {
        abandon();
        responses.onCompleted();
    }

    /**
     * The stream ended early (client gone, upstream reset): charge what is known, release the rest.
     * A request still waiting for an endpoint reached no model, so its whole reservation is released.
     */
    void abandon() {
        finished = true;
        if (state.plugins != null) {
            state.plugins.close();
        }
        if (pick != null && pick.cancelWait()) {
            state.exchange.release();
            return;
        }
        if (state.exchange != null) {
            measure(true);
            state.exchange.settle();
        }
    }

    /** Records the end of a request to a version the filter chose, once; {@code reset}: before the response ended. */
    private void measure(boolean reset) {
        if (measuring) {
            measuring = false;
            if (lateCheck != null) {
                lateCheck.cancel(false);
            }
            String version = state.version != null ? state.version.name() : routeVersion;
            if (version != null) { // an Envoy split's request reset before any answer: no one knows where it went
                state.exchange.measured(context.versions(), version, state.startNanos, reset, counted);
            }
        }
    }

    /**
     * For a canary the control plane judges by time to first token: counts the request as late, at
     * once, if its first byte has not come by the threshold the control plane sent (see
     * {@code LateThreshold}). A slow canary is then caught as its requests pass the threshold, not
     * when they end.
     */
    private void watchForLateness() {
        long micros = context.versions().lateAfterMicros(state.model.name(), state.version.name());
        if (micros <= 0) {
            return;
        }
        // One microsecond past the threshold: the sample falls in a bucket wholly above the rule's limit.
        long delay = (micros + 1) * 1_000 - (System.nanoTime() - state.startNanos);
        lateCheck = context.lateChecks().schedule(() -> late(micros + 1), Math.max(0, delay),
                java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private synchronized void late(long thresholdMicros) {
        if (measuring && !counted && !state.exchange.firstByteSeen()) {
            counted = true;
            context.versions().late(state.model.name(), state.version.name(),
                    Math.max(thresholdMicros, (System.nanoTime() - state.startNanos) / 1_000));
        }
    }
}
