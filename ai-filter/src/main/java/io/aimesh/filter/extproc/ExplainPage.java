package io.aimesh.filter.extproc;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aimesh.filter.api.Money;
import io.aimesh.filter.config.RuntimeConfig;
import io.aimesh.filter.config.RuntimeConfig.ModelInfo;
import io.aimesh.filter.config.RuntimeConfig.TenantInfo;
import io.aimesh.filter.limit.TokenLimiter;
import io.aimesh.filter.spend.Level;
import io.aimesh.filter.spend.SpendLedger;
import io.aimesh.filter.spend.SpendRule;
import io.aimesh.internal.AdminServer;
import io.aimesh.picker.Picker;
import io.aimesh.picker.PoolPicker;
import io.aimesh.picker.RequestFeatures;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The admin API's {@code GET /explain}: runs a request through the live config without sending
 * it, and answers every decision the filter would take, in order, with the policy resource each
 * comes from ({@code Kind/name}; the control plane's {@code /policy_sources} says where that is
 * written). {@code bin/aimesh explain} prints it. Query: {@code tenant} or {@code key} (the
 * SHA-256 hex of an API key, never the key), {@code model}, {@code tokens} (the prompt's, default
 * 100), {@code header} (repeated, {@code name:value}). Nothing is charged, picked or recorded;
 * budgets and endpoints are as this replica sees them now.
 */
public final class ExplainPage {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final FilterContext context;
    private final TokenLimiter limiter;

    public ExplainPage(FilterContext context, TokenLimiter limiter) {
        this.context = context;
        this.limiter = limiter;
    }

    public AdminServer.Reply render(URI uri) {
        RuntimeConfig config = context.config();
        if (config == null) {
            return new AdminServer.Reply(503, "{\"error\": \"no configuration yet\"}\n");
        }
        Map<String, List<String>> query = AdminServer.query(uri);
        String modelName = first(query, "model");
        if (modelName == null || (first(query, "tenant") == null) == (first(query, "key") == null)) {
            return new AdminServer.Reply(400, "{\"error\": \"needs model, and tenant or key (the API key's SHA-256 hex)\"}\n");
        }
        long input;
        try {
            input = Long.parseLong(query.getOrDefault("tokens", List.of("100")).get(0));
        } catch (NumberFormatException e) {
            return new AdminServer.Reply(400, "{\"error\": \"tokens: not a number\"}\n");
        }
        Map<String, String> headers = new HashMap<>();
        for (String header : query.getOrDefault("header", List.of())) {
            int colon = header.indexOf(':');
            if (colon <= 0) {
                return new AdminServer.Reply(400, "{\"error\": \"header: expected name:value\"}\n");
            }
            headers.put(header.substring(0, colon).strip().toLowerCase(Locale.ROOT), header.substring(colon + 1).strip());
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("configVersion", config.version());
        ArrayNode steps = root.putArray("steps");
        String verdict = explain(config, query, modelName, Math.max(0, input), headers, steps);
        root.put("verdict", verdict);
        try {
            return new AdminServer.Reply(200, JSON.writeValueAsString(root) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Adds each decision to {@code steps}; answers the verdict: {@code admitted}, or the first refusal. */
    private String explain(RuntimeConfig config, Map<String, List<String>> query, String modelName, long input,
                           Map<String, String> headers, ArrayNode steps) {
        String digest = first(query, "key");
        TenantInfo tenant = digest != null ? config.tenantByKeyDigest(digest.toLowerCase(Locale.ROOT))
                : config.tenant(first(query, "tenant"));
        if (tenant == null) {
            step(steps, "identity", "refused", digest != null ? "no tenant has this API key: 401 invalid_api_key"
                    : "no tenant named '" + first(query, "tenant") + "'", null);
            return "refused: 401 (identity)";
        }
        step(steps, "identity", "ok", "tenant " + tenant.name() + (digest != null ? ", by its API key" : ", as named"),
                "Tenant/" + tenant.name());
        ModelInfo model = config.model(modelName);
        if (model == null) {
            step(steps, "model", "refused", "no ModelRoute serves '" + modelName + "': 404 model_not_found", null);
            return "refused: 404 (model)";
        }
        step(steps, "model", "ok", "routed", "model/" + modelName);
        if (!tenant.allows(modelName)) {
            step(steps, "permission", "refused", "tenant " + tenant.name() + " may not use " + modelName + " (allowedModels): 403",
                    "Tenant/" + tenant.name());
            return "refused: 403 (permission)";
        }
        step(steps, "permission", "ok", tenant.allowedModels() == null ? "every model allowed" : "in allowedModels",
                "Tenant/" + tenant.name());
        long output = model.defaultMaxTokens();
        String refusal = null;
        for (TokenLimiter.Headroom room : limiter.headroom(tenant.limits(), modelName, input, output)) {
            ObjectNode step = step(steps, "limit", room.fits() ? "ok" : "refused",
                    String.format(Locale.ROOT, "%s (%s, %s): %d of %d used, this request %d, %d left, resets in %d s",
                            room.limit(), room.scope(), room.window().toString().substring(2).toLowerCase(Locale.ROOT),
                            room.used(), room.tokens(), room.cost(),
                            Math.max(0, room.ceiling() - room.used()), (room.millisUntilReset() + 999) / 1000),
                    "Tenant/" + tenant.name());
            step.put("left", Math.max(0, room.ceiling() - room.used()));
            step.put("resetSeconds", (room.millisUntilReset() + 999) / 1000);
            if (!room.fits() && refusal == null) {
                refusal = "refused: 429 (token limit " + room.limit() + ")";
            }
        }
        refusal = spend(config, tenant, digest, model, input, output, steps, refusal);
        String pool = version(config, tenant, model, headers, steps);
        if (pool != null) {
            pick(pool, steps);
        }
        return refusal != null ? refusal : "admitted";
    }

    private String spend(RuntimeConfig config, TenantInfo tenant, String digest, ModelInfo model, long input, long output,
                         ArrayNode steps, String refusal) {
        List<SpendRule> chain = config.spend().chain(tenant.name(), digest);
        long cost = config.spend().reservationPrice(model.name()).cost(input, 0, output);
        SpendLedger ledger = context.spend();
        for (SpendRule rule : chain) {
            SpendLedger.Usage usage = ledger.usage(rule);
            long left = rule.amountMicros() - usage.spentMicros() - usage.reservedMicros();
            boolean fits = cost <= left;
            ObjectNode step = step(steps, "budget", fits ? "ok" : "refused", String.format(Locale.ROOT,
                    "%s %s, %s %s: %s spent, %s reserved of %s, this request reserves %s, %s left, resets %s",
                    rule.level().label(), rule.account(), rule.period().label(), usage.window().id(), Money.format(usage.spentMicros()),
                    Money.format(usage.reservedMicros()), Money.format(rule.amountMicros()), Money.format(cost),
                    Money.format(Math.max(0, left)), usage.window().end()), source(rule, tenant));
            step.put("left", Money.format(Math.max(0, left)));
            step.put("reset", usage.window().end().toString());
            if (!fits && refusal == null) {
                refusal = "refused: 429 insufficient_quota (" + rule.level().label() + " " + rule.account() + ")";
            }
        }
        return refusal;
    }

    /** The version step; answers the pool the request would go to, or {@code null} when Envoy decides it. */
    private static String version(RuntimeConfig config, TenantInfo tenant, ModelInfo model, Map<String, String> headers,
                                  ArrayNode steps) {
        if (!model.filterRouted()) {
            StringBuilder split = new StringBuilder("Envoy's weighted split draws the version:");
            model.splitPools().forEach((pool, version) -> split.append(' ').append(version).append(" (pool ").append(pool).append(')'));
            step(steps, "version", "ok", split.toString(), "model/" + model.name());
            return null;
        }
        String stickyKey = null;
        RuntimeConfig.StickinessInfo sticky = model.stickiness();
        if (sticky != null) {
            stickyKey = switch (sticky.source()) {
                case TENANT -> tenant.name();
                case HEADER -> headers.get(sticky.name().toLowerCase(Locale.ROOT));
                case JWT_CLAIM -> null;
            };
        }
        RuntimeConfig.Choice choice = model.choose(name -> headers.get(name.toLowerCase(Locale.ROOT)),
                ThreadLocalRandom.current().nextDouble(), tenant.name(), stickyKey);
        StringBuilder weights = new StringBuilder();
        model.versions().forEach(v -> weights.append(weights.length() == 0 ? "" : ", ").append(v.name()).append(' ')
                .append(v.weight()));
        if (choice.version() == null) {
            step(steps, "version", "refused", "no version can take it (" + choice.label() + "; weights " + weights + ")",
                    "model/" + model.name());
            return null;
        }
        String why = switch (choice.rule()) {
            case OVERRIDE -> "the override header " + choice.override().header() + ": " + choice.override().value();
            case STICKY -> "its stickiness key (" + sticky.source().name().toLowerCase(Locale.ROOT) + " " + sticky.name()
                    + ") places it there while the weights stand";
            case DEDICATED -> "a pool dedicated to tenant " + tenant.name();
            default -> "a draw by weight (this draw; another request may differ)";
        };
        step(steps, "version", "ok", choice.version().name() + ", by " + why + "; weights " + weights, "model/" + model.name());
        return choice.version().pool();
    }

    private void pick(String pool, ArrayNode steps) {
        PoolPicker picker = context.pickers().get(pool);
        if (picker == null) {
            step(steps, "endpoint", "ok", "pool " + pool + ": Envoy balances its endpoints (least request)", "InferencePool/" + pool);
            return;
        }
        List<Picker.Scored> scored = picker.explain(RequestFeatures.of(""));
        StringBuilder detail = new StringBuilder("pool ").append(pool).append(", lowest cost wins (a draw among the near-best):");
        ArrayNode endpoints = JSON.createArrayNode();
        for (Picker.Scored endpoint : scored) {
            detail.append("\n  ").append(endpoint.endpoint().authority()).append(" cost ")
                    .append(Double.isInfinite(endpoint.cost()) ? "-" : String.format(Locale.ROOT, "%.3f", endpoint.cost()))
                    .append(String.format(Locale.ROOT, " (queue %s, KV cache %s, in flight %d)", number(endpoint.state().waiting()),
                            number(endpoint.state().kvCacheUsage()), endpoint.inFlight()))
                    .append(endpoint.why().isEmpty() ? "" : ": " + endpoint.why());
            ObjectNode node = endpoints.addObject();
            node.put("endpoint", endpoint.endpoint().authority());
            node.put("cost", Double.isInfinite(endpoint.cost()) ? null : endpoint.cost());
            node.put("why", endpoint.why());
        }
        boolean open = !scored.isEmpty() && !Double.isInfinite(scored.get(0).cost());
        ObjectNode step = step(steps, "endpoint", open ? "ok" : "queue", (open ? "would pick " + scored.get(0).endpoint().authority()
                : "every endpoint saturated or ejected: the request waits in the pool's queue, or is shed (503) when it is full")
                + "; " + detail, "InferencePool/" + pool);
        step.set("endpoints", endpoints);
    }

    private static String source(SpendRule rule, TenantInfo tenant) {
        return switch (rule.level()) {
            case KEY, TENANT -> "Tenant/" + tenant.name();
            case TEAM -> "Team/" + rule.account();
            case ORGANIZATION -> "Organization/" + rule.account();
        };
    }

    private static ObjectNode step(ArrayNode steps, String step, String outcome, String detail, String source) {
        ObjectNode node = steps.addObject();
        node.put("step", step);
        node.put("outcome", outcome);
        node.put("detail", detail);
        node.put("source", source);
        return node;
    }

    private static String number(double value) {
        return Double.isNaN(value) ? "?" : String.format(Locale.ROOT, "%.2f", value);
    }

    private static String first(Map<String, List<String>> query, String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

}
