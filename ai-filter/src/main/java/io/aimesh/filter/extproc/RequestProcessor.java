package io.aimesh.filter.extproc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.aimesh.filter.body.BodyError;
import io.aimesh.filter.body.BodyParseResult;
import io.aimesh.filter.body.ParsedRequest;
import io.aimesh.filter.config.RuntimeConfig;
import io.aimesh.filter.config.RuntimeConfig.ModelInfo;
import io.aimesh.filter.config.RuntimeConfig.Priority;
import io.aimesh.filter.config.RuntimeConfig.TenantInfo;
import io.aimesh.filter.config.RuntimeConfig.VersionInfo;
import io.aimesh.picker.Endpoint;
import io.aimesh.picker.Pick;
import io.aimesh.picker.PoolPicker;
import io.aimesh.picker.RequestFeatures;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One HTTP request's trip through the filter: one ext_proc stream, from request headers to
 * the end of the response.
 *
 * <ol>
 *   <li>Request headers: remove client-sent internal headers, identify the tenant (401 when
 *       tenants exist and none matches). Answered at once; Envoy sends the body without waiting.</li>
 *   <li>Request body: parse, check the model (404) and the tenant's right to it (403), estimate
 *       tokens and reserve them (429 with OpenAI's headers when over budget), set the model
 *       header and clear the route cache so Envoy's router routes by it; for a stream, ask the
 *       backend for usage. The rate-limit headers go back as dynamic metadata, which the route
 *       configuration turns into response headers.</li>
 *   <li>Response headers: add the rate-limit headers; note whether the body is SSE or JSON; an
 *       error status releases the reservation (the model generated nothing).</li>
 *   <li>Response body: read usage (or count streamed tokens), hide the usage event the client
 *       did not ask for, and reconcile the reservation with what was really used.</li>
 * </ol>
 *
 * <p>Threading: gRPC delivers one stream's messages one at a time, on the stream's event loop; a
 * request that waited for an endpoint is resumed from another thread (see {@link WaitingRoom}), so
 * the entry points are synchronized (uncontended but for that hand-over).
 */
final class RequestProcessor implements StreamObserver<ProcessingRequest> {
    private static final System.Logger LOG = System.getLogger(RequestProcessor.class.getName());
    private static final String INTERNAL_PREFIX = "x-aimesh-";
    /** Where Envoy's jwt_authn filter puts the verified payload (JwtConfig in the control plane). */
    private static final String JWT_NAMESPACE = "envoy.filters.http.jwt_authn";
    private static final String JWT_PAYLOAD_KEY = "jwt_payload";
    /** Where Envoy puts the configured attributes: under its filter's name, whatever it is called. */
    private static final String ATTRIBUTES_KEY = "envoy.filters.http.ext_proc";

    private final StreamObserver<ProcessingResponse> responses;
    private final FilterContext context;
    private final long startNanos = System.nanoTime();
    private RuntimeConfig config;
    private boolean inference;
    private String path = "";
    private String contentType;
    private String requestId = "";
    private TenantInfo tenant;
    private ModelInfo model;
    private Exchange exchange;
    /** Set while the request waits for an endpoint of a saturated pool. */
    private WaitingRoom.Waiter waiter;
    /** The override headers the client sent (x-aimesh-* ones the config lets through), or {@code null}. */
    private Map<String, String> clientHeaders;
    /** Whether a response body message has come (the first carries the status). */
    private boolean responseSeen;
    private boolean finished;
    /** The request's priority class, and the rule that chose its version (for the decision). */
    private Priority priority = Priority.STANDARD;
    private String rule;
    /** Whether the chosen version's pool is dedicated to the tenant. */
    private boolean dedicated;
    /** When the request started to wait for an endpoint, or 0. */
    private long queuedNanos;
    /** Who the request is in its pool's waiting room, when the pool queues. */
    private WaitingRoom.Ticket ticket;
    /** Whether the waiting room counts the request as running in its pool (against its tenant's slots). */
    private boolean running;

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
                // Not sent by the configuration the control plane writes; answered so that a
                // hand-written one does not stall.
                case RESPONSE_HEADERS -> responses.onNext(ProcessingResponses.responseHeaders(List.of()));
                case RESPONSE_BODY -> onResponseBody(request);
                case REQUEST_TRAILERS -> responses.onNext(ProcessingResponses.requestTrailers());
                case RESPONSE_TRAILERS -> responses.onNext(ProcessingResponses.responseTrailers());
                default -> LOG.log(Level.DEBUG, "ignoring ext_proc message " + request.getRequestCase());
            }
        } catch (RuntimeException e) {
            // A bug in one request must not take the filter down for others: answer 500 for this one.
            LOG.log(Level.ERROR, "request " + requestId + " failed in the filter", e);
            context.metrics().outcome("error", modelName(), tenantName());
            finish(ProcessingResponses.immediate(new ErrorReply(500, "The AI gateway filter failed on this request.",
                    "server_error", null, null, "error reason=filter-failure"), null));
        }
    }

    private void onRequestHeaders(ProcessingRequest request) {
        HttpHeaders headers = request.getRequestHeaders();
        config = context.config();
        List<String> remove = new ArrayList<>();
        String method = "";
        String authorization = null;
        Map<String, Map<String, TenantInfo>> tenantHeaders = config == null ? Map.of() : config.tenantHeaders();
        TenantInfo byHeader = null;
        for (HeaderValue header : headers.getHeaders().getHeadersList()) {
            String name = header.getKey();
            switch (name) {
                case ":path" -> path = value(header);
                case ":method" -> method = value(header);
                case "content-type" -> contentType = value(header);
                case "authorization" -> authorization = value(header);
                case "x-request-id" -> requestId = value(header);
                case ProcessingResponses.DESTINATION_HEADER -> remove.add(name);
                default -> {
                    if (config != null && config.clientHeaders().contains(name)) {
                        // An override header, whatever its name: the filter chooses versions by it.
                        if (clientHeaders == null) {
                            clientHeaders = new java.util.HashMap<>(2);
                        }
                        clientHeaders.putIfAbsent(name, value(header));
                    } else if (name.startsWith(INTERNAL_PREFIX)) {
                        remove.add(name);
                    }
                    Map<String, TenantInfo> values = tenantHeaders.get(name);
                    if (values != null && byHeader == null) {
                        byHeader = values.get(value(header));
                    }
                }
            }
        }
        if (config == null) {
            finish(ProcessingResponses.immediate(new ErrorReply(503, "The AI gateway has no configuration yet; retry shortly.",
                    "server_error", null, null, "error reason=no-config"), "1"));
            return;
        }
        int query = path.indexOf('?');
        String route = query < 0 ? path : path.substring(0, query);
        inference = method.equals("POST") && (route.equals("/v1/chat/completions") || route.equals("/v1/completions")
                || route.equals("/v1/embeddings"));
        if (inference && config.identityRequired()) {
            boolean verified = !config.jwtClaimPath().isEmpty() && jwtPayload(request) != null;
            if (verified) {
                // A verified token decides alone: a token naming no tenant is not rescued by a key or header.
                String claim = jwtClaim(request, config.jwtClaimName(), config.jwtClaimPath());
                tenant = claim == null ? null : config.tenantByJwtClaim(claim);
                if (tenant == null) {
                    deny("denied", new ErrorReply(401, "The token's tenant claim names no tenant.",
                            "invalid_request_error", "invalid_api_key", null, "denied reason=unknown-jwt-tenant"));
                    return;
                }
            }
            if (tenant == null && authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
                tenant = config.tenantByKeyDigest(ApiKeys.sha256(authorization.substring(7).trim()));
            }
            if (tenant == null) {
                tenant = byHeader;
            }
            if (tenant == null) {
                deny("denied", new ErrorReply(401, authorization == null
                        ? "Missing API key: send it as 'Authorization: Bearer <key>'." : "Incorrect API key provided.",
                        "invalid_request_error", "invalid_api_key", null, "denied reason=unknown-tenant"));
                return;
            }
        }
        if (inference && headers.getEndOfStream()) {
            deny("error", new ErrorReply(400, "The request body is empty; expected a JSON object.",
                    "invalid_request_error", null, null, "error reason=empty-body"));
            return;
        }
        responses.onNext(ProcessingResponses.requestHeaders(remove));
    }

    private void onRequestBody(HttpBody body) {
        if (!inference) {
            responses.onNext(ProcessingResponses.requestBody(null, null, List.of()));
            return;
        }
        BodyParseResult result = context.parse(config, path, contentType, body.getBody());
        if (result instanceof BodyError error) {
            deny("error", new ErrorReply(error.status(), error.message(), error.type(), error.code(), error.param(),
                    "error reason=bad-request status=" + error.status()));
            return;
        }
        ParsedRequest parsed = (ParsedRequest) result;
        model = config.model(parsed.model());
        if (model == null) {
            deny("denied", new ErrorReply(404, "The model '" + parsed.model() + "' does not exist or you do not have access to it.",
                    "invalid_request_error", "model_not_found", "model", "denied reason=unknown-model model=" + parsed.model()));
            return;
        }
        if (tenant != null && !tenant.allows(model.name())) {
            deny("denied", new ErrorReply(403, "Tenant '" + tenant.name() + "' may not use the model '" + model.name() + "'.",
                    "invalid_request_error", "model_not_allowed", "model",
                    "denied reason=model-not-allowed tenant=" + tenant.name() + " model=" + model.name()));
            return;
        }
        exchange = context.admit(tenant, model, parsed, body.getBody());
        if (exchange.denial() != null) {
            deny("limited", exchange.denial());
            return;
        }
        priority = tenant == null ? Priority.STANDARD : tenant.priority(model.name());
        if (coalesce(parsed)) {
            return; // answered when the shared call's result is in
        }
        if (!model.filterRouted()) {
            rule = "envoy-split";
            forward(null, null);
            return;
        }
        RuntimeConfig.Choice choice = model.choose(name -> clientHeaders == null ? null : clientHeaders.get(name),
                ThreadLocalRandom.current().nextDouble(), tenantName());
        rule = choice.rule();
        VersionInfo version = choice.version();
        if (version == null && choice.rule().equals("no-eligible-pool")) {
            exchange.release();
            deny("denied", new ErrorReply(403, "The model '" + model.name() + "' is served only by pools reserved for other tenants.",
                    "invalid_request_error", "model_not_allowed", "model",
                    "denied reason=dedicated-pools tenant=" + tenantName() + " model=" + model.name()));
            return;
        }
        dedicated = version != null && !version.dedicatedTenants().isEmpty();
        PoolPicker picker = version == null ? null : context.pickers().get(version.pool());
        if (picker == null) {
            forward(version == null ? null : version.pool(), null); // a pool Envoy balances
            return;
        }
        RequestFeatures features = RequestFeatures.of(String.join("\n", parsed.promptTexts()));
        String pool = version.pool();
        RuntimeConfig.PoolInfo info = config.pools().get(pool); // null if a new config just added it
        boolean queues = info != null && info.queueSize() > 0;
        java.util.function.Supplier<Pick> pickAndHold = () -> pickAndHold(pool, picker, features);
        Pick pick;
        if (queues) {
            int share = tenant == null ? 1 : tenant.share();
            ticket = new WaitingRoom.Ticket(tenant == null ? "" : tenant.name(), priority, share,
                    (double) Math.max(1, exchange.estimatedTokens()) / share);
            // Someone waits already, or the tenant is at its slot cap: queue, so the room's order
            // (priority, fair share) decides who goes next.
            pick = context.waitingRoom().tryStart(pool, ticket, info.slots(), pickAndHold);
            if (pick == null) {
                pick = Pick.SATURATED;
            }
            running = pick.outcome() == Pick.Outcome.PICKED; // the room counts it against its tenant's slots
        } else {
            pick = pickAndHold.get();
        }
        if (pick.outcome() == Pick.Outcome.SATURATED && queues) {
            queuedNanos = System.nanoTime();
            waiter = context.waitingRoom().enqueue(pool, ticket, pickAndHold, info.queueSize(),
                    config.queueWaitNanos(info.queueTimeout()), outcome -> resume(pool, picker, outcome));
            if (waiter == null) {
                shed(pool, "queue-full");
                return;
            }
            context.metrics().queued(pool);
            context.waitingRoom().wake(pool); // answers this request at once if it is the one to go and there is room
            return;
        }
        routeTo(pool, picker, pick, "saturated");
    }

    /**
     * Hands an embeddings request of a coalescing model to the coalescer (string inputs without
     * per-request options only, and not for a tenant with a dedicated pool of the model: a shared
     * call goes to shared versions).
     *
     * @return whether it was taken: its answer then comes from {@link #coalesced}
     */
    private boolean coalesce(ParsedRequest parsed) {
        RuntimeConfig.CoalesceInfo settings = model.coalesce();
        if (settings == null || parsed.kind() != io.aimesh.filter.body.RequestKind.EMBEDDING || parsed.promptTokenIds() > 0
                || parsed.promptTexts().isEmpty() || parsed.embeddingOptions() || model.dedicatedTo(tenantName())) {
            return false;
        }
        rule = "coalesced";
        // Answered before Envoy's message timeout, as a queued request is.
        return context.coalescer().submit(model.name(), settings, parsed.promptTexts(),
                config.queueWaitNanos(java.time.Duration.ofDays(1)), this::coalesced);
    }

    /** The shared call's result for this request: answer the client with its slice and charge its share. */
    private synchronized void coalesced(EmbeddingCoalescer.Slice slice) {
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
        context.metrics().outcome(slice.status() == 200 ? "admitted" : "error", model.name(), tenantName());
        String decision = "admitted rule=coalesced call_requests=" + slice.callRequests()
                + (tenant == null ? "" : " tenant=" + tenant.name() + " priority=" + priority.label());
        done();
        finish(ProcessingResponses.immediateJson(slice.status(), slice.body(), decision, exchange.rateLimitHeaders()));
    }

    /**
     * Answers the request body with the endpoint picked in {@code pool}, or refuses it when the pool
     * is saturated, for {@code refusal}.
     */
    private void routeTo(String pool, PoolPicker picker, Pick pick, String refusal) {
        context.metrics().pick(pool, pick);
        switch (pick.outcome()) {
            case PICKED -> forward(pool, pick.endpoint()); // its endpoint is held since the pick
            case SATURATED -> shed(pool, refusal);
            // Every endpoint failed its scrapes: Envoy balances. A shared pool's request gets no pool
            // header, so Envoy's weighted split and its own connection failures decide rather than a
            // refusal here; a dedicated pool's stays in its pool.
            case NONE_HEALTHY -> forward(dedicated ? pool : null, null);
        }
    }

    /**
     * Picks an endpoint of {@code pool} and, when there is one, counts the request in flight there
     * at once, so that no other pick sees that slot free in between (the waiting room picks under
     * its lock). Called on the request's thread, or on the waking thread for a waiting request (the
     * request is then idle: it only waits).
     */
    private Pick pickAndHold(String pool, PoolPicker picker, RequestFeatures features) {
        Pick pick = picker.pick(features);
        if (pick.outcome() == Pick.Outcome.PICKED) {
            exchange.routedTo(picker, pick.endpoint(), () -> leavePool(pool));
        }
        return pick;
    }

    /** The waiting room found an endpoint for this request, or its wait is over. */
    private synchronized void resume(String pool, PoolPicker picker, WaitingRoom.Outcome outcome) {
        waiter = null;
        running = outcome.pick().outcome() == Pick.Outcome.PICKED; // the room counted it as running
        if (finished) {
            // The client left as the room picked for it: let go of the endpoint and the slot.
            if (exchange != null) {
                exchange.release();
            }
            leavePool(pool);
            return;
        }
        try {
            routeTo(pool, picker, outcome.pick(), outcome.refusal());
        } catch (RuntimeException e) {
            // Most likely the client left as the answer went out; nothing else to tell it.
            LOG.log(Level.DEBUG, "request " + requestId + " could not be resumed", e);
            abandon();
            if (!exchange.routed()) {
                leavePool(pool);
            }
        }
    }

    /**
     * The request left its endpoint of {@code pool} (or never reached it): it no longer counts
     * against its tenant's slots, and a waiting request may take its place.
     */
    private void leavePool(String pool) {
        if (running) {
            running = false;
            context.waitingRoom().ended(pool, ticket);
        }
        context.waitingRoom().wake(pool);
    }

    /**
     * Lets the request go upstream: to {@code pool} (or wherever Envoy's routes say when null) and
     * {@code endpoint} in it, naming the tenant to the model server and the decision to the client.
     */
    private void forward(String pool, Endpoint endpoint) {
        context.metrics().outcome("admitted", model.name(), tenantName());
        StringBuilder decision = new StringBuilder("admitted rule=").append(rule);
        if (pool != null) {
            decision.append(" pool=").append(pool);
        }
        if (tenant != null) {
            decision.append(" tenant=").append(tenant.name()).append(" priority=").append(priority.label());
        }
        if (queuedNanos != 0) {
            decision.append(" waited_ms=").append((System.nanoTime() - queuedNanos) / 1_000_000);
        }
        List<HeaderValue> responseHeaders = new ArrayList<>(exchange.rateLimitHeaders());
        responseHeaders.add(ProcessingResponses.value("x-aimesh-decision", decision.toString()));
        if (LOG.isLoggable(Level.DEBUG)) { // one line per admitted request: too many for INFO
            LOG.log(Level.DEBUG, "decision=" + decision + " request_id=" + requestId);
        }
        responses.onNext(ProcessingResponses.requestBody(model.name(), exchange.rewrittenBody(), responseHeaders, pool, endpoint,
                tenantName()));
    }

    /**
     * The pool is saturated and this request is the one to go: refuse it with 429 and the pool's
     * retry-after; its reservation is returned. {@code reason}: {@code saturated} (the pool does not
     * queue), or {@code queue-full}, {@code queue-timeout} or {@code displaced} (see {@link WaitingRoom}).
     */
    private void shed(String pool, String reason) {
        exchange.release();
        RuntimeConfig.PoolInfo info = config.pools().get(pool);
        long retryAfter = info == null ? 1 : info.retryAfterSeconds();
        ErrorReply reply = new ErrorReply(429, "The servers of model '" + model.name() + "' are all busy. Retry after "
                + retryAfter + " s.", "server_error", "overloaded", null, "shed reason=" + reason + " pool=" + pool
                + (tenant == null ? "" : " tenant=" + tenant.name()) + " priority=" + priority.label());
        context.metrics().outcome("shed", model.name(), tenantName());
        LOG.log(Level.INFO, "decision=" + reply.decision() + " status=429 request_id=" + requestId + " retry_after_s=" + retryAfter);
        finish(ProcessingResponses.immediate(reply, Long.toString(retryAfter), List.of()));
    }

    /**
     * A response body message. The first one carries the response status as an attribute (the
     * filter does not see response headers, see ExtProcConfig in the control plane); every answer,
     * failed or not, is read for usage and charged as {@link FailedAnswer} says.
     */
    private void onResponseBody(ProcessingRequest request) {
        HttpBody body = request.getResponseBody();
        if (exchange != null && !responseSeen) {
            responseSeen = true;
            exchange.answered(responseStatus(request)); // a failed answer is charged by its status, see FailedAnswer
        }
        if (exchange == null) {
            responses.onNext(ProcessingResponses.responseBody(null));
            return;
        }
        if (!exchange.reading()) {
            if (body.getBody().isEmpty() && !body.getEndOfStream()) {
                responses.onNext(ProcessingResponses.responseBody(null));
                return;
            }
            exchange.responseStarted(isEventStream(body.getBody()));
        }
        ByteString replacement = exchange.onResponseBody(body.getBody(), body.getEndOfStream(), startNanos);
        if (body.getEndOfStream()) {
            done();
        }
        responses.onNext(ProcessingResponses.responseBody(replacement));
    }

    /** The {@code response.code} attribute; 200 when Envoy did not send it. */
    private static int responseStatus(ProcessingRequest request) {
        Struct attributes = request.getAttributesMap().get(ATTRIBUTES_KEY);
        if (attributes == null) {
            return 200;
        }
        Value code = attributes.getFieldsMap().get("response.code");
        return code == null || code.getKindCase() != Value.KindCase.NUMBER_VALUE ? 200 : (int) code.getNumberValue();
    }

    /**
     * Whether a response body is an event stream rather than one JSON document, from its first
     * byte that is not white space: a JSON body opens with a brace, an SSE field never does.
     */
    static boolean isEventStream(ByteString body) {
        for (int i = 0; i < body.size(); i++) {
            byte b = body.byteAt(i);
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return b != '{';
            }
        }
        return false;
    }

    private void deny(String outcome, ErrorReply reply) {
        context.metrics().outcome(outcome, modelName(), tenantName());
        String retryAfter = exchange == null ? null : exchange.retryAfter();
        // One key=value line per refusal: the decision (its first word) and the rule, as in x-aimesh-decision.
        LOG.log(reply.status() >= 500 ? Level.WARNING : Level.INFO, "decision=" + reply.decision()
                + " status=" + reply.status() + " request_id=" + requestId + (retryAfter == null ? "" : " retry_after_s=" + retryAfter));
        finish(ProcessingResponses.immediate(reply, retryAfter, exchange == null ? List.of() : exchange.rateLimitHeaders()));
    }

    private void done() {
        if (exchange != null) {
            exchange.settle();
        }
        context.metrics().finished(modelName(), System.nanoTime() - startNanos);
    }

    private void finish(ProcessingResponse response) {
        finished = true;
        responses.onNext(response);
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
    private void abandon() {
        finished = true;
        if (waiter != null) {
            waiter.cancel();
            waiter = null;
            if (exchange != null) {
                exchange.release();
            }
            return;
        }
        if (exchange != null) {
            exchange.settle();
        }
    }

    private String modelName() {
        return model == null ? null : model.name();
    }

    private String tenantName() {
        return tenant == null ? null : tenant.name();
    }

    /**
     * The JWT payload Envoy verified (jwt_authn's dynamic metadata, forwarded by the control plane's
     * ext_proc config), or {@code null} when the request carried no token.
     */
    static Struct jwtPayload(ProcessingRequest request) {
        Struct namespace = request.getMetadataContext().getFilterMetadataMap().get(JWT_NAMESPACE);
        Value payload = namespace == null ? null : namespace.getFieldsMap().get(JWT_PAYLOAD_KEY);
        return payload == null || payload.getKindCase() != Value.KindCase.STRUCT_VALUE ? null : payload.getStructValue();
    }

    /**
     * The tenant claim of the verified payload: the claim called {@code name} (a URL-like name may
     * contain dots), else the value at the dotted {@code path}; {@code null} when there is no
     * verified token or the claim is missing or not a string or number.
     */
    static String jwtClaim(ProcessingRequest request, String name, List<String> path) {
        Struct payload = jwtPayload(request);
        if (payload == null) {
            return null;
        }
        Value value = payload.getFieldsMap().get(name);
        if (value == null) {
            value = Value.newBuilder().setStructValue(payload).build();
            for (String step : path) {
                if (value == null || value.getKindCase() != Value.KindCase.STRUCT_VALUE) {
                    return null;
                }
                value = value.getStructValue().getFieldsMap().get(step);
            }
        }
        if (value == null) {
            return null;
        }
        return switch (value.getKindCase()) {
            case STRING_VALUE -> value.getStringValue();
            case NUMBER_VALUE -> value.getNumberValue() == Math.rint(value.getNumberValue())
                    ? Long.toString((long) value.getNumberValue()) : Double.toString(value.getNumberValue());
            default -> null;
        };
    }

    private static String value(HeaderValue header) {
        return header.getRawValue().isEmpty() ? header.getValue() : header.getRawValue().toString(StandardCharsets.UTF_8);
    }
}
