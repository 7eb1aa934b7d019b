package io.aimesh.policy;

import static io.aimesh.policy.Shape.Field.optional;
import static io.aimesh.policy.Shape.Field.required;

import io.aimesh.policy.Shape.Bool;
import io.aimesh.policy.Shape.Dur;
import io.aimesh.policy.Shape.Int;
import io.aimesh.policy.Shape.ListOf;
import io.aimesh.policy.Shape.MapOf;
import io.aimesh.policy.Shape.Obj;
import io.aimesh.policy.Shape.OneOf;
import io.aimesh.policy.Shape.Str;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The policy kinds of {@code aimesh.io/v1alpha1} and the shape of each. */
final class Kinds {
    static final String API_VERSION = "aimesh.io/v1alpha1";
    static final String INFERENCE_POOL = "InferencePool";
    static final String MODEL_ROUTE = "ModelRoute";
    static final String TENANT = "Tenant";
    static final String GATEWAY = "Gateway";
    static final String TEAM = "Team";
    static final String ORGANIZATION = "Organization";

    /** Kubernetes' DNS-1123 label, the rule for names that end up in Envoy resource and stat names. */
    static final Str NAME = Str.matching("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?",
            "at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit");
    static final Str HOST_PORT = Str.matching("(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):[0-9]{1,5}",
            "host:port");
    static final Str HEADER_NAME = Str.matching("[a-z0-9!#$%&'*+.^_`|~-]+", "a lower-case HTTP header name");
    static final Str MODEL_NAME = Str.matching("[^\\s]{1,256}", "1 to 256 characters, no whitespace");
    static final Str SHA256 = Str.secret("sha256:[0-9a-f]{64}", "sha256: followed by 64 lower-case hex digits");

    static final Obj METADATA = new Obj("Identifies the resource.", List.of(
            required("name", NAME, "Unique among resources of the same kind, in every namespace; at most 63 characters."),
            optional("namespace", NAME, null,
                    "The config scope: the control plane sends a node only the resources of its own namespace "
                            + "(node metadata `aimesh.io/namespace`, else Istio's `NAMESPACE`). References stay "
                            + "within a namespace. Without it, the default scope of nodes that name none."),
            optional("labels", new MapOf(Str.any()), null, "Free-form labels.")));

    static final Obj SCORERS = new Obj("How much each signal counts when the picker chooses an endpoint; 0 turns one off.",
            List.of(
                    optional("queue", new Int(0, 1_000), "1", "Requests waiting at the endpoint (vllm:num_requests_waiting)."),
                    optional("kvCache", new Int(0, 1_000), "1", "The endpoint's KV-cache use (vllm:kv_cache_usage_perc)."),
                    optional("inFlight", new Int(0, 1_000), "1", "Requests the ai-filter has in flight to the endpoint."),
                    optional("prefixAffinity", new Int(0, 1_000), "2",
                            "Bonus for an endpoint that recently served the prompt's prefix, unless it is busy."),
                    optional("loraAffinity", new Int(0, 1_000), "1",
                            "Bonus for an endpoint that holds the requested LoRA adapter (vllm:lora_requests_info).")));

    static final Obj BALANCING = new Obj("How requests are spread over the pool's endpoints.", List.of(
            optional("mode", new OneOf(List.of("round-robin", "least-request", "picker", "orca", "eds-weights")), "round-robin",
                    "`round-robin` and `least-request` are Envoy's; `picker` has the ai-filter choose each request's "
                            + "endpoint from the endpoints' live load (needs a Gateway with a filter); `orca` is Envoy's "
                            + "client-side weighted round robin, weighing endpoints by the ORCA load reports they send in "
                            + "the endpoint-load-metrics response header; `eds-weights` is Envoy's weighted round robin on "
                            + "weights the control plane sets from the endpoints' scraped load."),
            optional("metricsPath", Str.matching("/[!\"$->@-~]*", "a path starting with /"), "/metrics",
                    "Where each endpoint serves its Prometheus metrics (picker, eds-weights)."),
            optional("metricsInterval", new Dur(Duration.ofMillis(10), Duration.ofSeconds(10)), "200ms",
                    "How often they are scraped: by the ai-filter (picker) or the control plane (eds-weights)."),
            optional("scorers", SCORERS, null, "The picker's weights."),
            optional("maxQueue", new Int(1, 100_000), "5", "An endpoint with more requests waiting is saturated."),
            optional("maxKvCachePercent", new Int(1, 100), "80",
                    "An endpoint using more of its KV cache is saturated; 100 never saturates on the KV cache."),
            optional("maxInFlight", new Int(0, 100_000), "0",
                    "An endpoint with this many requests in flight from one ai-filter replica is saturated; 0 for no "
                            + "such limit. Unlike the scraped queue it is exact at once: set it to the server's batch "
                            + "size (vLLM's max_num_seqs) divided by the filter replicas, and requests wait in the "
                            + "filter, in priority and fair-share order, rather than in the server's queue."),
            optional("retryAfter", new Dur(Duration.ofSeconds(1), Duration.ofMinutes(10)), "1s",
                    "When every endpoint is saturated the request is refused with 429 and this retry-after."),
            optional("whenSaturated", new OneOf(List.of("reject", "queue")), "reject",
                    "When every endpoint of a picker pool is saturated: `reject` at once, or `queue` in the ai-filter "
                            + "until an endpoint has room (refused when the queue is full or the wait too long)."),
            optional("queueSize", new Int(1, 100_000), "100", "Requests that may wait, per pool and ai-filter replica."),
            optional("queueTimeout", new Dur(Duration.ofMillis(1), Duration.ofMinutes(10)), "5s",
                    "How long a request may wait for an endpoint before it is refused.")));

    static final Obj DEDICATED_TO = new Obj("The tenants a pool is reserved for: theirs alone, and they go only there.",
            List.of(
                    optional("tenants", new ListOf(NAME, 1), null, "Tenant names."),
                    optional("tiers", new ListOf(NAME, 1), null, "Tenant tiers: every tenant whose `tier` is listed.")));

    static final Obj INFERENCE_POOL_SPEC = new Obj("A set of model-server endpoints serving one model version.", List.of(
            required("endpoints", new ListOf(HOST_PORT, 1),
                    "Static endpoints as host:port. A host that is not an IP address is resolved by the control plane."),
            optional("connectTimeout", new Dur(Duration.ofMillis(1), Duration.ofMinutes(1)), "2s",
                    "How long Envoy waits to connect to an endpoint."),
            optional("balancing", BALANCING, null, "How requests are spread over the endpoints; Envoy's round robin without it."),
            optional("selector", new MapOf(Str.matching("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?",
                            "a Kubernetes label value: at most 63 letters, digits, '-', '_' and '.'")), null,
                    "On Kubernetes: the labels of the pool's pods, as the Gateway API Inference Extension's "
                            + "InferencePool selects them. `aimesh istio render` makes them the pool's DestinationRule "
                            + "subset and InferencePool selector; the endpoints then name the pods' Service "
                            + "(`name.namespace.svc.cluster.local:port`). Without it the endpoints are outside the mesh, "
                            + "and the render declares them in a ServiceEntry. The control plane's own path ignores it."),
            optional("dedicatedTo", DEDICATED_TO, null,
                    "Reserves the pool for some tenants: no other tenant's request is routed to it, and a request of "
                            + "theirs for a model this pool serves goes to it (or another of their dedicated pools) only. "
                            + "Needs the ai-filter (a Gateway with spec.filter).")));

    static final Str MONEY = Str.matching("[0-9]{1,10}(\\.[0-9]{1,6})?", "an amount like 12.50: digits, at most 6 decimals");

    static final Obj PRICING = new Obj("What tokens cost, per million, in the Gateway's currency.", List.of(
            required("input", MONEY, "Per million prompt tokens."),
            optional("cachedInput", MONEY, null,
                    "Per million prompt tokens the model server served from its prefix cache "
                            + "(usage.prompt_tokens_details.cached_tokens); the input price without it."),
            required("output", MONEY, "Per million output tokens.")));

    static final Obj SPEND_BUDGET = new Obj("A budget in money over a period.", List.of(
            required("amount", MONEY, "The most that may be spent in one period, in the Gateway's currency (at most 1e9)."),
            required("period", new OneOf(List.of("day", "week", "month", "30d")),
                    "`day`, `week` (Monday to Sunday) and `month` are calendar periods in `timeZone`; `30d` is the "
                            + "current day and the 29 before it."),
            optional("timeZone", Str.matching("[A-Za-z0-9_+/-]{1,64}", "a time zone like UTC or Europe/Berlin"), "UTC",
                    "The IANA time zone whose midnight starts a day (and so a week, a month)."),
            optional("alertAt", new ListOf(new Int(1, 100), 1), "[80]",
                    "Soft thresholds in percent of the amount: each crossing is counted in "
                            + "`aimesh_budget_alerts_total` and logged, once per period.")));

    static final ListOf BUDGETS = new ListOf(SPEND_BUDGET, 1);

    static final Obj MODEL_VERSION = new Obj("One version of the model.", List.of(
            required("name", NAME, "The version's name, unique in the route."),
            required("pool", NAME, "The InferencePool that serves this version."),
            required("weight", new Int(0, 10_000), "Relative share of traffic; 0 sends none (it stays reachable by override)."),
            optional("pricing", PRICING, null, "This version's prices, over the route's.")));

    static final Obj HEADER_OVERRIDE = new Obj("Forces a version when a request header has a value.", List.of(
            required("header", HEADER_NAME, "The header to look at. Not one Envoy or aimesh own (the internal `x-aimesh-model`, "
                    + "`x-aimesh-pool`, `x-aimesh-tenant`, `x-aimesh-decision`, `x-aimesh-route-version`, `x-aimesh-shadow`; "
                    + "`x-gateway-*`, "
                    + "`x-envoy-*`), a pseudo-header, `authorization`, the JWT header or a tenant identity header, nor "
                    + "a name with `_`: those are removed, dropped or carry credentials."),
            required("value", Str.any(), "The exact value that triggers the override."),
            required("version", NAME, "The version to send the request to.")));

    static final Obj COALESCE = new Obj("Gathers concurrent embeddings requests into shared backend calls.", List.of(
            optional("maxBatch", new Int(2, 2_048), "32", "The most inputs in one backend call."),
            optional("maxInFlight", new Int(1, 1_024), "2",
                    "The most backend calls in flight per ai-filter replica; while they are, new requests gather "
                            + "into the next call.")));

    static final Obj STICKINESS = new Obj("What keeps a client on one version while the weights stand.", List.of(
            required("by", new OneOf(List.of("tenant", "header", "jwtClaim")),
                    "Where the key comes from: the request's tenant, a request header, or a claim of the verified JWT."),
            optional("name", Str.matching("[^\\s]{1,256}", "1 to 256 characters, no whitespace"), null,
                    "The header name (`by: header`; the rules of override headers apply) or the claim, as a dotted "
                            + "path or a whole claim name (`by: jwtClaim`); none for `by: tenant`.")));

    static final Obj MIRROR = new Obj("Sends a discarded copy of some requests to a version.", List.of(
            required("version", NAME, "The version that gets the copies; its answers are read for metrics and dropped."),
            required("percent", new Int(1, 100), "The share of the route's requests copied."),
            optional("maxInFlight", new Int(1, 10_000), "16",
                    "The most copies in flight per ai-filter replica; beyond it, and whenever the version's pool is "
                            + "saturated, copies are shed (counted, never queued).")));

    static final Obj ROLLOUT_STEP = new Obj("One step of a rollout: the canary's share, held until its minimums are met.",
            List.of(
                    required("weight", new Int(1, 100), "The canary's percent of the route's traffic; the baseline gets the rest."),
                    optional("minDuration", new Dur(Duration.ZERO, Duration.ofDays(7)), "60s",
                            "The least time the step is held before it may pass."),
                    optional("minRequests", new Int(0, 100_000_000), "100",
                            "The least canary requests the step sees before it may pass.")));

    static final Str FACTOR = Str.matching("[0-9]{1,3}(\\.[0-9]{1,3})?x", "a factor of the baseline, like 1.3x");
    static final Str RATE_MARGIN = Str.matching("\\+[0-9]{1,2}(\\.[0-9]{1,3})?%", "percentage points over the baseline, like +1%");
    static final Str DRIFT = Str.matching("[0-9]{1,3}(\\.[0-9]{1,3})?%", "a percent either way, like 20%");

    static final Obj ROLLOUT_RULES = new Obj("What the canary must hold, against the baseline on the same live traffic.",
            List.of(
                    optional("ttftP50", FACTOR, null, "Median time to first token at most this times the baseline's."),
                    optional("ttftP99", FACTOR, null, "99th percentile time to first token at most this times the baseline's."),
                    optional("tpotP50", FACTOR, null, "Median time per output token (streams) at most this times the baseline's."),
                    optional("tpotP99", FACTOR, null, "99th percentile time per output token at most this times the baseline's."),
                    optional("errorRate", RATE_MARGIN, null, "Share of 5xx answers and resets at most this over the baseline's."),
                    optional("overloadRate", RATE_MARGIN, null,
                            "Share of overload refusals (429 from the model server, or the filter's own) at most this over the baseline's."),
                    optional("outputLengthDrift", DRIFT, null,
                            "Mean output tokens within this of the baseline's, either way.")));

    static final Obj ROLLOUT_ANALYSIS = new Obj("When and on what the rules judge.", List.of(
            optional("minSamples", new Int(1, 1_000_000), "2",
                    "Canary requests a rule needs before it may fail the canary; the test of significance decides when, so 2 is enough (two failures in two requests fail a +1% rule only when the baseline fails under 0.1%). A step passes only on its minRequests."),
            optional("window", new Dur(Duration.ofSeconds(1), Duration.ofHours(1)), "2m",
                    "How far back a failure is looked for; a step passes on everything since it began."),
            optional("rules", ROLLOUT_RULES, "{errorRate: +1%, ttftP99: 1.5x}", "The rules; all must hold.")));

    static final Obj ROLLOUT = new Obj("Raises the canary's weight step by step, judged on live numbers; rolls back at once on a failed rule.",
            List.of(
                    required("baseline", NAME, "The version the canary is compared with; it gives up the weight."),
                    required("canary", NAME, "The version rolled out."),
                    required("steps", new ListOf(ROLLOUT_STEP, 1), "The canary's weights, increasing; after the last, it gets 100."),
                    optional("analysis", ROLLOUT_ANALYSIS, null, "The rules and their window.")));

    static final Obj MODEL_ROUTE_SPEC = new Obj("Routes one model name across its versions.", List.of(
            required("model", MODEL_NAME, "The model name as clients send it in the request's `model` field."),
            required("versions", new ListOf(MODEL_VERSION, 1), "The versions and their weights."),
            optional("overrides", new ListOf(HEADER_OVERRIDE, 0), "[]",
                    "Header overrides, checked in order before the weighted split."),
            optional("timeout", new Dur(Duration.ZERO, Duration.ofHours(1)), "300s",
                    "Upstream request timeout; 0s disables it (long streams)."),
            optional("tokenizer", new OneOf(List.of("cl100k_base", "o200k_base", "p50k_base", "r50k_base", "approximate")),
                    "cl100k_base", "The BPE encoding the ai-filter counts prompt tokens with; `approximate` is characters / 4."),
            optional("defaultMaxTokens", new Int(1, 1_000_000), "1024",
                    "Output tokens the ai-filter reserves for a request that gives no max_tokens."),
            optional("coalesce", COALESCE, null,
                    "Has the ai-filter gather concurrent `/v1/embeddings` requests of this model (string inputs, "
                            + "tenants without a dedicated pool) into one call to a model server of a shared version, "
                            + "and answer each client with its own slice. Needs a Gateway with spec.filter."),
            optional("pricing", PRICING, null,
                    "What the model's tokens cost, for spend budgets; a version's own `pricing` is over it. A model "
                            + "without prices costs nothing."),
            optional("stickiness", STICKINESS, null,
                    "Keeps each key (tenant, header value or JWT claim) on one version while the weights stand; when "
                            + "they move, only the keys that must move do, and only towards versions that gained weight. "
                            + "Overrides still win; a request without the key gets a fresh draw. Needs a Gateway with "
                            + "spec.filter."),
            optional("mirror", MIRROR, null,
                    "Shadow traffic: the ai-filter sends a copy of `percent` % of the requests to `version` and "
                            + "discards its answer. The client sees only the primary answer; the copy's tokens are "
                            + "counted as shadow in metrics, never charged to a budget. Needs a Gateway with spec.filter."),
            optional("rollout", ROLLOUT, null,
                    "Rolls the canary version out automatically: while it runs, the rollout sets the weights (the "
                            + "baseline and canary share 100, other versions get 0 and stay reachable by override). "
                            + "Needs a Gateway with spec.filter: the ai-filter measures each version.")));

    static final Obj HEADER_MATCH = new Obj("A header set by a trusted gateway in front of Envoy.", List.of(
            required("name", HEADER_NAME, "The header name."),
            required("value", Str.any(), "The value that names this tenant.")));

    static final Obj API_KEY = new Obj("An API key, stored only as its SHA-256 digest.", List.of(
            required("sha256", SHA256, "`sha256:` and the hex SHA-256 of the key as sent in `Authorization: Bearer`."),
            optional("name", NAME, null, "A name for the key in spend reports and refusals; the digest's first 12 digits without it."),
            optional("budgets", BUDGETS, "[]", "Budgets of this key alone, within its tenant's.")));

    static final Obj IDENTITY = new Obj("How requests from this tenant are recognised; at least one way.", List.of(
            optional("apiKeys", new ListOf(API_KEY, 1), null, "API keys of this tenant."),
            optional("jwtClaim", Str.matching("[^\\s]{1,256}", "1 to 256 characters, no whitespace"), null,
                    "The value of the Gateway's `identity.jwt.tenantClaim` in this tenant's verified JWTs."),
            optional("header", HEADER_MATCH, null,
                    "A header set by a trusted gateway; honoured only when the Gateway says `identity.trustedHop: true`.")));

    static final Obj COST_WEIGHTS = new Obj("Cost of one token of each kind, for `count: weighted`.", List.of(
            required("input", new Int(0, 1_000), "Cost of one input (prompt) token."),
            required("output", new Int(0, 1_000), "Cost of one output (completion) token.")));

    /**
     * The largest tokens, burst or requests value: the filter's limiter keeps a window's use in
     * 40 bits, so tokens + burst must stay within 2^39; each is held to 2^38 so their sum is.
     */
    static final long MAX_BUDGET = 1L << 38;

    static final Obj TOKEN_LIMIT = new Obj("A token budget over a window.", List.of(
            optional("models", new ListOf(MODEL_NAME, 1), "[\"*\"]",
                    "Models the limit applies to; `*` counts all models together."),
            required("window", new OneOf(List.of("1m", "1h", "1d")), "The window: a minute, an hour or a day."),
            required("tokens", new Int(1, MAX_BUDGET), "Tokens allowed per window."),
            optional("count", new OneOf(List.of("input", "output", "total", "weighted")), "total",
                    "Which tokens count."),
            optional("weights", COST_WEIGHTS, null, "Per-token costs; required with `count: weighted`."),
            optional("burst", new Int(0, MAX_BUDGET), "0", "Extra tokens allowed above the steady rate.")));

    static final OneOf PRIORITY = new OneOf(List.of("critical", "standard", "sheddable"));

    static final Obj TENANT_SPEC = new Obj("A tenant: identity, allowed models, priority and limits.", List.of(
            required("identity", IDENTITY, "How the tenant is recognised."),
            optional("allowedModels", new ListOf(MODEL_NAME, 1), "[\"*\"]",
                    "Model names the tenant may use; `*` allows every model."),
            optional("priority", PRIORITY, "standard",
                    "Priority class: when a pool saturates, sheddable is refused first, critical last."),
            optional("modelPriorities", new MapOf(PRIORITY), "{}",
                    "Priority classes for some models (model name to class), over `priority`."),
            optional("share", new Int(1, 1_000), "1",
                    "Weight in the fair share among tenants of equal priority waiting for a saturated pool."),
            optional("tier", NAME, null, "A tier name, for pools dedicated to a tier."),
            optional("limits", new ListOf(TOKEN_LIMIT, 0), "[]", "Token limits."),
            optional("requestsPerMinute", new Int(0, MAX_BUDGET), "0", "Request limit per minute; 0 for none."),
            optional("team", NAME, null, "The Team whose budgets this tenant's spend counts against too."),
            optional("budgets", BUDGETS, "[]", "Budgets of the tenant's spend, over all its keys and models.")));

    static final Obj TEAM_SPEC = new Obj("A team of tenants: its budgets hold for their spend together.", List.of(
            optional("organization", NAME, null, "The Organization whose budgets the team's spend counts against too."),
            optional("budgets", BUDGETS, "[]", "Budgets of the team's spend.")));

    static final Obj ORGANIZATION_SPEC = new Obj("The top of the spend hierarchy: its budgets hold for its teams together.",
            List.of(optional("budgets", BUDGETS, "[]", "Budgets of the organisation's spend.")));

    static final Obj FILTER_SETTINGS = new Obj("The ai-filter (Envoy external processing) in the request path.", List.of(
            required("address", HOST_PORT, "Where the filter's ext_proc gRPC server listens, as host:port."),
            optional("failureMode", new OneOf(List.of("closed", "open")), "closed",
                    "When the filter is unreachable or times out: `closed` refuses the request (500), "
                            + "`open` lets it through unidentified and unlimited, to shared pools only (a dedicated "
                            + "pool or a picked endpoint needs the filter's verdict)."),
            optional("messageTimeout", new Dur(Duration.ofMillis(1), Duration.ofSeconds(10)), "200ms",
                    "How long Envoy waits for each filter answer."),
            optional("maxRequestBytes", new Int(1024, FilterSettings.MAX_REQUEST_BYTES), "1048576",
                    "Request bodies over this size are refused with 413, at most 64 MiB (67108864): Envoy, the "
                            + "filter's gRPC server and this check agree on that bound, so a body at the limit is "
                            + "identified and limited like any other."),
            optional("streamOverrun", new OneOf(List.of("finish", "cut")), "finish",
                    "A stream that runs past its tenant's token budget: `finish` lets it end (the excess is "
                            + "charged), `cut` ends it at the limit.")));

    /** An issuer or audience as a JWT carries it. */
    static final Str TOKEN_TEXT = Str.matching("[^\\s]+", 1024, "1 to 1024 characters, no whitespace");

    static final Obj JWT = new Obj("JSON Web Tokens that Envoy verifies (its jwt_authn filter) before the ai-filter reads them.",
            List.of(
                    required("issuer", TOKEN_TEXT,
                            "The `iss` a token must carry."),
                    required("audiences", new ListOf(TOKEN_TEXT, 1),
                            "Accepted `aud` values. Required: a token the same issuer made for another service must not pass."),
                    optional("jwksFile", Str.matching("/.+", 4096, "an absolute path"), null,
                            "The issuer's public keys (a JWKS document), read by Envoy from this file."),
                    optional("jwks", Str.matching("(?s)\\s*\\{.*", "a JSON object"), null,
                            "The issuer's public keys, as an inline JWKS document. One of `jwksFile` or `jwks`."),
                    optional("tenantClaim", Str.matching("[A-Za-z0-9_:/-]+(\\.[A-Za-z0-9_:/-]+)*", "a claim name, or a dotted path"),
                            "sub", "The claim whose value names the tenant (a Tenant's `identity.jwtClaim`)."),
                    optional("header", HEADER_NAME, "authorization",
                            "Where the token is sent; in `authorization` as `Bearer <token>`. API keys are read from "
                                    + "`authorization` too, so tenants with API keys need the JWTs in another header."),
                    optional("clockSkew", new Dur(Duration.ZERO, Duration.ofMinutes(10)), "60s",
                            "Allowed clock difference when checking `exp` and `nbf`.")));

    static final Obj GATEWAY_IDENTITY = new Obj("How the data plane establishes who sent a request.", List.of(
            optional("jwt", JWT, null, "Verified JWTs name the tenant."),
            optional("trustedHop", new Bool(), "false",
                    "Whether the hop before Envoy is a trusted gateway whose tenant headers (Tenants' "
                            + "`identity.header`) are honoured. When false, no Tenant may use a header identity.")));

    static final Obj GLOBAL_LIMITS = new Obj("Token budgets shared by every ai-filter replica through Redis.", List.of(
            // Secret: a mistyped URI is not echoed in the error, since it may carry the password.
            required("redis", Str.secret("rediss?://[^\\s]+", "a redis:// or rediss:// URI"),
                    "The Redis that holds the shared counts, e.g. redis://10.0.0.5:6379."),
            optional("leaseTokens", new Int(1, MAX_BUDGET), "1000",
                    "The most tokens a replica admits beyond what Redis has counted (at most a tenth of a budget's "
                            + "limit is used). Worst case per window: limit + replicas × that lease (or the largest "
                            + "request). Size it above about 4/3 of a replica's token rate times a Redis round trip."),
            optional("syncInterval", new Dur(Duration.ofMillis(1), Duration.ofSeconds(10)), "10ms",
                    "The longest time between two reports of an active budget (reports are also sent at half a lease)."),
            optional("whenRedisDown", new OneOf(List.of("closed", "open")), "closed",
                    "`closed` refuses every request while Redis is unreachable; `open` admits up to "
                            + "`failOpenTokens` per budget and window on each replica."),
            optional("failOpenTokens", new Int(0, MAX_BUDGET), "0",
                    "The local cap while failing open, per budget, window and replica; e.g. the limit divided by the replicas."),
            optional("timeout", new Dur(Duration.ofMillis(1), Duration.ofSeconds(10)), "250ms",
                    "How long a report may take before Redis counts as down."),
            optional("spendLease", MONEY, "1.00",
                    "For spend budgets: the most a replica spends beyond what Redis has acknowledged (at most a tenth "
                            + "of a budget's amount is used). Worst case per period: amount + replicas × that lease.")));

    /** An IPv4 or IPv6 CIDR range; ResourceBinder checks that the address parses and the prefix fits. */
    static final Str CIDR = Str.matching("[0-9a-fA-F:.]+/[0-9]{1,3}", "an IPv4 or IPv6 CIDR range, e.g. 10.0.0.0/8");

    static final Obj PLUGIN = new Obj("A proxy-wasm plugin (an Envoy wasm plugin's .wasm) the ai-filter runs on each "
            + "request, in list order, after identity and before it reads the body (the limiter counts the body the "
            + "plugins leave), and on its response in reverse order, as Envoy runs a filter chain.", List.of(
            required("name", NAME, "Names the plugin in logs, metrics and errors; unique in the list."),
            required("file", Str.matching("/.+", 4096, "an absolute path"),
                    "The module, read by the control plane (checked: a WebAssembly module exporting the proxy-wasm ABI) "
                            + "and by each ai-filter, which checks it against `sha256` before loading it."),
            required("sha256", Str.matching("sha256:[0-9a-f]{64}", "sha256: followed by 64 lower-case hex digits"),
                    "The module's digest. A changed digest loads the new module; requests in flight finish on the old."),
            optional("configuration", Str.any(), "\"\"", "What the plugin reads as its configuration (Envoy's `configuration`)."),
            optional("phases", new ListOf(new OneOf(List.of("requestHeaders", "requestBody", "responseHeaders", "responseBody")), 1),
                    "[requestHeaders, requestBody, responseHeaders, responseBody]",
                    "The plugin's callbacks that run. A response phase keeps the plugin's context open until the "
                            + "response ends; `responseHeaders` on any plugin makes Envoy send every response's headers to "
                            + "the ai-filter (one message more per request), so list only what the plugin needs."),
            optional("failureMode", new OneOf(List.of("closed", "open")), "closed",
                    "When the plugin traps, runs past its timeout, exhausts its memory or fails to start: `closed` answers "
                            + "500 (on a response already under way, cuts it), `open` goes on without it."),
            optional("timeout", new Dur(Duration.ofMillis(1), Duration.ofSeconds(10)), "100ms",
                    "The most one call of the plugin (a phase of a request) may take; past it the call is interrupted."),
            optional("memoryLimit", Str.matching("[0-9]{1,4}Mi", "mebibytes, like 64Mi"), "64Mi",
                    "The most linear memory an instance (one per ai-filter thread) may grow to, 1Mi to 4096Mi; a plugin "
                            + "that needs more traps, failing only that request. The module's initial memory must fit."),
            optional("tenants", new ListOf(NAME, 1), null, "Only requests of these tenants; every request when absent."),
            optional("models", new ListOf(MODEL_NAME, 1), null,
                    "Only requests for these models, as the client names them in the body; every request when absent.")));

    static final Obj GATEWAY_SPEC = new Obj("Settings of the data plane; at most one Gateway per namespace.", List.of(
            optional("currency", Str.matching("[A-Z]{3}", "an ISO 4217 code like USD"), "USD",
                    "The currency of every price and budget of the namespace (a label: nothing is converted)."),
            optional("filter", FILTER_SETTINGS, null,
                    "Puts the ai-filter in the request path. Without it Envoy routes on the x-aimesh-model header alone."),
            optional("identity", GATEWAY_IDENTITY, null, "Verified identity: JWTs, and whether a tenant header is trusted."),
            optional("globalLimits", GLOBAL_LIMITS, null,
                    "Makes every Tenant's limits global: shared by all ai-filter replicas through Redis, "
                            + "rather than each replica's own."),
            optional("plugins", new ListOf(PLUGIN, 1), "[]",
                    "proxy-wasm plugins the ai-filter runs on requests and their responses, in this order. "
                            + "Needs spec.filter."),
            optional("trustedCidrs", new ListOf(CIDR, 1), "[]",
                    "The only client addresses Envoy treats as internal (its internal_address_config): requests from "
                            + "them keep Envoy's x-envoy-* control headers (timeouts, retries). Without it no client is "
                            + "trusted by its address, loopback and private ranges included. Internal aimesh headers "
                            + "are removed from every request, trusted or not.")));

    /** Each kind's {@code spec} shape, in the order the documentation lists them. */
    static final Map<String, Obj> SPECS = orderedSpecs();

    private static Map<String, Obj> orderedSpecs() {
        var specs = new java.util.LinkedHashMap<String, Obj>();
        specs.put(INFERENCE_POOL, INFERENCE_POOL_SPEC);
        specs.put(MODEL_ROUTE, MODEL_ROUTE_SPEC);
        specs.put(TENANT, TENANT_SPEC);
        specs.put(GATEWAY, GATEWAY_SPEC);
        specs.put(TEAM, TEAM_SPEC);
        specs.put(ORGANIZATION, ORGANIZATION_SPEC);
        return java.util.Collections.unmodifiableMap(specs);
    }

    private Kinds() {
    }
}
