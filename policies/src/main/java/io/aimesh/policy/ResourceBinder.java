package io.aimesh.policy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns checked documents into policy records, then checks what no single field can:
 * unique names, references between resources, and rules across fields. Every error goes to
 * the shared list with the location of the field at fault. Not thread-safe.
 */
final class ResourceBinder {
    private final List<PolicyError> errors;
    private final Map<String, Map<String, Checked>> seen = new HashMap<>();
    private final List<Bound<InferencePool>> pools = new ArrayList<>();
    private final List<Bound<ModelRoute>> routes = new ArrayList<>();
    private final List<Bound<Tenant>> tenants = new ArrayList<>();
    private Bound<Gateway> gateway;
    /** Every pool name, and the models of routes with errors: a reference to a resource with errors is not reported again. */
    private final Set<String> poolNames = new HashSet<>();
    private final Set<String> invalidModels = new HashSet<>();
    /** Each tenant identity (API key digest or header match) to the tenant that claimed it first, with its location. */
    private final Map<String, String> identities = new HashMap<>();

    private record Bound<T>(T value, Checked spec, String resource) {
    }

    ResourceBinder(List<PolicyError> errors) {
        this.errors = errors;
    }

    void bind(Checked document) {
        String kind = document.string("kind", null);
        Checked metadata = document.get("metadata");
        String name = metadata.string("name", null);
        String resource = kind + '/' + name;
        Checked first = seen.computeIfAbsent(kind, k -> new HashMap<>()).putIfAbsent(name, metadata.get("name"));
        if (first != null) {
            error(metadata.get("name"), resource, "duplicate " + kind + " name '" + name + "' (first defined at "
                    + first.location() + ")");
            return;
        }
        Checked spec = document.get("spec");
        switch (kind) {
            case Kinds.INFERENCE_POOL -> {
                poolNames.add(name);
                pools.add(new Bound<>(pool(name, spec, resource), spec, resource));
            }
            case Kinds.MODEL_ROUTE -> bindRoute(name, spec, resource);
            case Kinds.TENANT -> bindTenant(name, spec, resource);
            case Kinds.GATEWAY -> bindGateway(name, spec, resource);
            default -> throw new IllegalStateException("unchecked kind " + kind);
        }
    }

    /**
     * Records what is known of a resource that failed its shape check, {@code null} for what is not,
     * so a reference to it is not reported as unknown on top of its own errors.
     */
    void declareInvalid(String kind, String name, String model) {
        if (Kinds.INFERENCE_POOL.equals(kind) && name != null) {
            poolNames.add(name);
        } else if (Kinds.MODEL_ROUTE.equals(kind) && model != null) {
            invalidModels.add(model);
        }
    }

    /** Checks references between resources and returns the set (meaningful only when no errors were added). */
    PolicySet link() {
        Map<String, Bound<ModelRoute>> models = new HashMap<>();
        for (Bound<ModelRoute> route : routes) {
            List<Checked> versions = route.spec().list("versions");
            for (int i = 0; i < versions.size(); i++) {
                String pool = versions.get(i).string("pool", null);
                if (!poolNames.contains(pool)) {
                    error(versions.get(i).get("pool"), route.resource(),
                            "unknown InferencePool '" + pool + "'" + known(" (defined pools: ", poolNames));
                }
            }
            Bound<ModelRoute> other = models.putIfAbsent(route.value().model(), route);
            if (other != null) {
                error(route.spec().get("model"), route.resource(), "model '" + route.value().model() + "' is already routed by "
                        + other.resource() + " (at " + other.spec().get("model").location() + ")");
            }
        }
        Set<String> routed = new HashSet<>(models.keySet());
        routed.addAll(invalidModels);
        for (Bound<Tenant> tenant : tenants) {
            List<Checked> named = new ArrayList<>(tenant.spec().list("allowedModels"));
            tenant.spec().list("limits").forEach(limit -> named.addAll(limit.list("models")));
            for (Checked item : named) {
                String model = (String) item.value();
                if (!model.equals("*") && !routed.contains(model)) {
                    error(item, tenant.resource(), "unknown model '" + model + "'" + known(" (routed models: ", models.keySet()));
                }
            }
        }
        boolean filtered = gateway != null && gateway.value().filter() != null;
        for (Bound<InferencePool> pool : pools) {
            if (!filtered && pool.value() != null && pool.value().balancing().mode() == Balancing.Mode.PICKER) {
                error(pool.spec().get("balancing").get("mode"), pool.resource(),
                        "mode 'picker' needs the ai-filter in the request path (a Gateway with spec.filter)");
            }
        }
        return new PolicySet(values(pools), values(routes), values(tenants), gateway == null ? null : gateway.value());
    }

    private InferencePool pool(String name, Checked spec, String resource) {
        List<Endpoint> endpoints = new ArrayList<>();
        Set<Endpoint> unique = new HashSet<>();
        for (Checked item : spec.list("endpoints")) {
            String text = (String) item.value();
            int colon = text.lastIndexOf(':');
            String host = text.substring(0, colon);
            if (host.startsWith("[")) {
                host = host.substring(1, host.length() - 1);
            }
            int port = Integer.parseInt(text.substring(colon + 1));
            if (port < 1 || port > 65535) {
                error(item, resource, "port " + port + " is out of range (expected: 1..65535)");
                continue;
            }
            Endpoint endpoint = new Endpoint(host, port);
            if (!unique.add(endpoint)) {
                error(item, resource, "duplicate endpoint '" + text + "'");
                continue;
            }
            endpoints.add(endpoint);
        }
        if (endpoints.isEmpty()) {
            return null;
        }
        return new InferencePool(name, endpoints, spec.duration("connectTimeout", Duration.ofSeconds(2)), balancing(spec.get("balancing")));
    }

    private static Balancing balancing(Checked spec) {
        if (spec == null) {
            return Balancing.DEFAULT;
        }
        Balancing d = Balancing.DEFAULT;
        Checked scorers = spec.get("scorers");
        Balancing.Scorers s = Balancing.Scorers.DEFAULT;
        if (scorers != null) {
            s = new Balancing.Scorers((int) scorers.integer("queue", s.queue()), (int) scorers.integer("kvCache", s.kvCache()),
                    (int) scorers.integer("inFlight", s.inFlight()), (int) scorers.integer("prefixAffinity", s.prefixAffinity()),
                    (int) scorers.integer("loraAffinity", s.loraAffinity()));
        }
        return new Balancing(Balancing.Mode.of(spec.string("mode", d.mode().policyName())),
                spec.string("metricsPath", d.metricsPath()), spec.duration("metricsInterval", d.metricsInterval()), s,
                (int) spec.integer("maxQueue", d.maxQueue()), (int) spec.integer("maxKvCachePercent", d.maxKvCachePercent()),
                spec.duration("retryAfter", d.retryAfter()), spec.string("whenSaturated", "reject").equals("queue"),
                (int) spec.integer("queueSize", d.queueSize()), spec.duration("queueTimeout", d.queueTimeout()));
    }

    private void bindRoute(String name, Checked spec, String resource) {
        List<ModelVersion> versions = new ArrayList<>();
        Map<String, Checked> versionNames = new HashMap<>();
        long total = 0;
        for (Checked item : spec.list("versions")) {
            String version = item.string("name", null);
            Checked first = versionNames.putIfAbsent(version, item.get("name"));
            if (first != null) {
                error(item.get("name"), resource, "duplicate version '" + version + "' (first defined at " + first.location() + ")");
            }
            int weight = (int) item.integer("weight", 0);
            total += weight;
            versions.add(new ModelVersion(version, item.string("pool", null), weight));
        }
        if (total == 0) {
            error(spec.get("versions"), resource, "all version weights are 0 (expected: at least one weight > 0)");
        }
        List<HeaderOverride> overrides = new ArrayList<>();
        for (Checked item : spec.list("overrides")) {
            String version = item.string("version", null);
            if (!versionNames.containsKey(version)) {
                error(item.get("version"), resource, "unknown version '" + version + "'" + known(" (versions: ", versionNames.keySet()));
            }
            overrides.add(new HeaderOverride(item.string("header", null), item.string("value", null), version));
        }
        routes.add(new Bound<>(new ModelRoute(name, spec.string("model", null), versions, overrides,
                spec.duration("timeout", Duration.ofSeconds(300)), spec.string("tokenizer", "cl100k_base"),
                (int) spec.integer("defaultMaxTokens", 1024)), spec, resource));
    }

    private void bindGateway(String name, Checked spec, String resource) {
        if (gateway != null) {
            error(spec, resource, "only one Gateway is allowed (another is " + gateway.resource() + ")");
            return;
        }
        Checked filter = spec.get("filter");
        FilterSettings settings = null;
        if (filter != null) {
            String address = filter.string("address", null);
            int colon = address.lastIndexOf(':');
            int port = Integer.parseInt(address.substring(colon + 1));
            if (port < 1 || port > 65535) {
                error(filter.get("address"), resource, "port " + port + " is out of range (expected: 1..65535)");
                return;
            }
            String host = address.substring(0, colon);
            settings = new FilterSettings(new Endpoint(host.startsWith("[") ? host.substring(1, host.length() - 1) : host, port),
                    filter.string("failureMode", "closed").equals("open"),
                    filter.duration("messageTimeout", Duration.ofMillis(200)),
                    filter.integer("maxRequestBytes", 1 << 20),
                    filter.string("streamOverrun", "finish").equals("cut"));
        }
        gateway = new Bound<>(new Gateway(name, settings), spec, resource);
    }

    private void bindTenant(String name, Checked spec, String resource) {
        Checked identity = spec.get("identity");
        List<String> keys = new ArrayList<>();
        for (Checked key : identity.list("apiKeys")) {
            keys.add(key.string("sha256", null).substring("sha256:".length()));
            claim(key.string("sha256", null), "API key", key.get("sha256"), resource);
        }
        Checked header = identity.get("header");
        if (header != null) {
            String match = "header " + header.string("name", null) + ": " + header.string("value", null);
            claim(match, match, header, resource);
        }
        if (keys.isEmpty() && header == null) {
            error(identity, resource, "identity needs at least one of 'apiKeys' or 'header'");
        }
        List<TokenLimit> limits = new ArrayList<>();
        for (Checked limit : spec.list("limits")) {
            limits.add(limit(limit, resource));
        }
        tenants.add(new Bound<>(new Tenant(name, keys,
                header == null ? null : new Tenant.HeaderMatch(header.string("name", null), header.string("value", null)),
                spec.strings("allowedModels", List.of("*")),
                Tenant.Priority.valueOf(spec.string("priority", "standard").toUpperCase(Locale.ROOT)),
                limits, spec.integer("requestsPerMinute", 0)), spec, resource));
    }

    /**
     * Reports {@code identity} when a tenant already uses it: a request must identify one tenant.
     * {@code shown} names it in the message, so an API key digest is not repeated.
     */
    private void claim(String identity, String shown, Checked at, String resource) {
        String first = identities.putIfAbsent(identity, resource + " (at " + at.location() + ")");
        if (first != null) {
            error(at, resource, shown + " already identifies " + first);
        }
    }

    private TokenLimit limit(Checked limit, String resource) {
        TokenLimit.Count count = TokenLimit.Count.valueOf(limit.string("count", "total").toUpperCase(Locale.ROOT));
        Checked weights = limit.get("weights");
        if (count == TokenLimit.Count.WEIGHTED && weights == null) {
            error(limit.get("count"), resource, "count 'weighted' needs 'weights' (e.g. {input: 1, output: 3})");
        } else if (count != TokenLimit.Count.WEIGHTED && weights != null) {
            error(weights, resource, "'weights' applies only with count 'weighted' (count is '"
                    + count.name().toLowerCase(Locale.ROOT) + "'" + (limit.get("count") == null ? ", the default)" : ")"));
        }
        Duration window = ShapeChecker.parseDuration(limit.string("window", null));
        return new TokenLimit(limit.strings("models", List.of("*")), window, limit.integer("tokens", 1), count,
                weights == null ? 1 : (int) weights.integer("input", 1), weights == null ? 1 : (int) weights.integer("output", 1),
                limit.integer("burst", 0));
    }

    private void error(Checked at, String resource, String message) {
        errors.add(new PolicyError(at.location(), at.path().isEmpty() ? resource : resource + ' ' + at.path(), message));
    }

    private static String known(String prefix, Set<String> names) {
        return names.isEmpty() ? " (none are defined)" : prefix + String.join(", ", names.stream().sorted().toList()) + ")";
    }

    private static <T> List<T> values(List<Bound<T>> bound) {
        return bound.stream().map(Bound::value).filter(java.util.Objects::nonNull).toList();
    }
}
