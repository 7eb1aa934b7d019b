package io.aimesh.filter.extproc;

import io.aimesh.filter.body.BodyError;
import io.aimesh.filter.config.RuntimeConfig.Priority;

/**
 * An OpenAI-style error the filter answers with instead of forwarding the request. Made by the
 * named factories below, one per refusal, so that each refusal's status, OpenAI type and code,
 * and decision are written once.
 *
 * @param status the HTTP status
 * @param type OpenAI's error type, e.g. {@code invalid_request_error}, {@code tokens}
 * @param code OpenAI's error code, e.g. {@code rate_limit_exceeded}, or {@code null}
 * @param param the request field at fault, or {@code null}
 * @param outcome the decision's first word and the metric's outcome
 * @param detail the rest of the {@code x-aimesh-decision} value, e.g. {@code reason=unknown-tenant}
 */
record ErrorReply(int status, String message, String type, String code, String param, Outcome outcome, String detail) {
    private static final String INVALID_REQUEST = "invalid_request_error";
    private static final String SERVER_ERROR = "server_error";

    /** The {@code x-aimesh-decision} value that explains it. */
    String decision() {
        return outcome.label() + " " + detail;
    }

    String json() {
        return new BodyError(status, message, type, param, code).toJson();
    }

    /** 500: a bug in the filter, confined to this request. */
    static ErrorReply filterFailure() {
        return new ErrorReply(500, "The AI gateway filter failed on this request.", SERVER_ERROR, null, null,
                Outcome.ERROR, "reason=filter-failure");
    }

    /** 500: a plugin of failure mode {@code closed} trapped or could not be loaded. */
    static ErrorReply pluginFailure(String plugin) {
        return new ErrorReply(500, "A plugin of the AI gateway failed on this request.", SERVER_ERROR, "plugin_failure", null,
                Outcome.ERROR, "reason=plugin-failure plugin=" + plugin);
    }

    /**
     * A plugin's own answer as an OpenAI-style error: its status, and its body as the message (a
     * plugin that answered JSON is passed on as it is, by the caller).
     */
    static ErrorReply pluginReply(String plugin, int status, String body) {
        return new ErrorReply(status, body.isEmpty() ? "Refused by a plugin of the AI gateway." : body,
                status >= 500 ? SERVER_ERROR : INVALID_REQUEST, "plugin_refused", null,
                status == 401 || status == 403 ? Outcome.DENIED : status == 429 ? Outcome.LIMITED : Outcome.ERROR,
                "reason=plugin plugin=" + plugin + " status=" + status);
    }

    /** 503 before the first configuration arrives. */
    static ErrorReply noConfig() {
        return new ErrorReply(503, "The AI gateway has no configuration yet; retry shortly.", SERVER_ERROR, null, null,
                Outcome.ERROR, "reason=no-config");
    }

    /** 401: a verified token whose tenant claim names no tenant (a key or header cannot rescue it). */
    static ErrorReply unknownJwtTenant() {
        return new ErrorReply(401, "The token's tenant claim names no tenant.", INVALID_REQUEST, "invalid_api_key", null,
                Outcome.DENIED, "reason=unknown-jwt-tenant");
    }

    /** 401: no identity matched; {@code keySent} whether the request had an {@code authorization} header. */
    static ErrorReply unknownTenant(boolean keySent) {
        return new ErrorReply(401, keySent ? "Incorrect API key provided."
                : "Missing API key: send it as 'Authorization: Bearer <key>'.", INVALID_REQUEST, "invalid_api_key", null,
                Outcome.DENIED, "reason=unknown-tenant");
    }

    /** 400: an inference request whose headers end the stream. */
    static ErrorReply emptyBody() {
        return new ErrorReply(400, "The request body is empty; expected a JSON object.", INVALID_REQUEST, null, null,
                Outcome.ERROR, "reason=empty-body");
    }

    /** The parser's 400, 413 or 415. */
    static ErrorReply badRequest(BodyError error) {
        return new ErrorReply(error.status(), error.message(), error.type(), error.code(), error.param(),
                Outcome.ERROR, "reason=bad-request status=" + error.status());
    }

    /** 404: OpenAI's answer for a model that does not exist. */
    static ErrorReply unknownModel(String model) {
        return new ErrorReply(404, "The model '" + model + "' does not exist or you do not have access to it.",
                INVALID_REQUEST, "model_not_found", "model", Outcome.DENIED, "reason=unknown-model model=" + model);
    }

    /** 403: the tenant's allowed models do not include {@code model}. */
    static ErrorReply modelNotAllowed(String tenant, String model) {
        return new ErrorReply(403, "Tenant '" + tenant + "' may not use the model '" + model + "'.", INVALID_REQUEST,
                "model_not_allowed", "model", Outcome.DENIED, "reason=model-not-allowed tenant=" + tenant + " model=" + model);
    }

    /** 403: every version of {@code model} is served by pools dedicated to other tenants. */
    static ErrorReply dedicatedPoolsOnly(String tenant, String model) {
        return new ErrorReply(403, "The model '" + model + "' is served only by pools reserved for other tenants.",
                INVALID_REQUEST, "model_not_allowed", "model", Outcome.DENIED,
                "reason=dedicated-pools tenant=" + tenant + " model=" + model);
    }

    /**
     * 429: every endpoint of {@code pool} is saturated and this request is the one to go.
     *
     * @param tenant the tenant, or {@code null}
     */
    static ErrorReply overloaded(String model, long retryAfterSeconds, ShedReason reason, String pool, String tenant,
                                 Priority priority) {
        return new ErrorReply(429, "The servers of model '" + model + "' are all busy. Retry after " + retryAfterSeconds + " s.",
                SERVER_ERROR, "overloaded", null, Outcome.SHED, "reason=" + reason.label() + " pool=" + pool
                        + (tenant == null ? "" : " tenant=" + tenant) + " priority=" + priority.label());
    }

    /** 429: a budget has no room now; {@code kind} is {@code requests} or {@code tokens}, OpenAI's type. */
    static ErrorReply rateLimited(String kind, String tenant, String model, String scope, String window, String retryAfter,
                                  String limit) {
        return new ErrorReply(429, "Rate limit reached for " + kind + " of tenant '" + tenant + "' on model '" + scope
                + "' per " + window + ". Retry after " + retryAfter + " s.", kind, "rate_limit_exceeded", null,
                Outcome.LIMITED, "tenant=" + tenant + " model=" + model + " window=" + window + " limit=" + limit);
    }

    /**
     * 429: a spend budget cannot hold the request's priced reservation: OpenAI's answer for an
     * exhausted quota ({@code insufficient_quota}). The message and decision name the level,
     * account and period that refused; the headers say what is left and when it resets.
     *
     * @param leaseSpent whether only this replica's share of a shared budget is spent for a moment
     */
    static ErrorReply budgetExceeded(String tenant, String model, String level, String account, String period,
                                     String remaining, String currency, String resetsAt, boolean leaseSpent) {
        String message = leaseSpent
                ? "The " + period + " budget of " + level + " '" + account + "' is busy on this gateway replica; retry in a moment."
                : "Budget exceeded: the " + period + " budget of " + level + " '" + account + "' has " + remaining + " "
                        + currency + " left, not enough for this request (up to its max_tokens). It resets at " + resetsAt + ".";
        return new ErrorReply(429, message, "insufficient_quota", "insufficient_quota", null, Outcome.LIMITED,
                "reason=" + (leaseSpent ? "budget-lease" : "budget") + " level=" + level + " name=" + account + " period="
                        + period + " tenant=" + tenant + " model=" + model);
    }

    /**
     * 429 for a request whose reservation exceeds what its budget can ever hold (limit plus
     * burst): OpenAI's "Request too large" ({@code type: tokens}, {@code code: rate_limit_exceeded}),
     * answered without {@code retry-after}, since no retry can help; the client must ask for less
     * ({@code max_tokens}, {@code n}, {@code best_of}, fewer prompts) or a shorter prompt.
     */
    static ErrorReply requestTooLarge(String tenant, String model, String scope, String window, long requestedTokens,
                                      String limit) {
        return new ErrorReply(429, "Request too large for tenant '" + tenant + "' on model '" + scope + "' per " + window
                + ": it may use up to " + requestedTokens + " tokens (prompt plus max_tokens for each of n or best_of"
                + " choices of each prompt), more than the limit allows. Ask for fewer tokens.",
                "tokens", "rate_limit_exceeded", null, Outcome.LIMITED,
                "reason=too-large tenant=" + tenant + " model=" + model + " window=" + window + " limit=" + limit);
    }
}
