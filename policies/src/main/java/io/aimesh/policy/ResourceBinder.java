package io.aimesh.policy;

import io.aimesh.filter.api.WireContract;
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
    /** The namespace of the resource being bound. */
    private String namespace = "";
    private final Map<String, Map<String, Checked>> seen = new HashMap<>();
    private final List<Bound<InferencePool>> pools = new ArrayList<>();
    private final List<Bound<ModelRoute>> routes = new ArrayList<>();
    private final List<Bound<Tenant>> tenants = new ArrayList<>();
    /** The Gateway of each namespace. */
    private final Map<String, Bound<Gateway>> gateways = new HashMap<>();
    /** Every pool name with its namespace, and the models of routes with errors (as namespace/model): a reference to a resource with errors is not reported again. */
    private final Map<String, String> poolNamespaces = new HashMap<>();
    private final Set<String> invalidModels = new HashSet<>();
    /** Each resource's namespace, by kind/name; "" for the default. */
    private final Map<String, String> namespaces = new HashMap<>();
    /** Each tenant identity (API key digest or header match) to the tenant that claimed it first, with its location. */
    private final Map<String, String> identities = new HashMap<>();

    private record Bound<T>(T value, Checked spec, String resource, String namespace) {
    }

    private final SpendBinder spend;

    ResourceBinder(List<PolicyError> errors) {
        this.errors = errors;
        this.spend = new SpendBinder(errors);
    }

    void bind(Checked document) {
        String kind = document.string("kind", null);
        Checked metadata = document.get("metadata");
        String name = metadata.string("name", null);
        String resource = kind + '/' + name;
        namespace = metadata.string("namespace", "");
        Checked first = seen.computeIfAbsent(kind, k -> new HashMap<>()).putIfAbsent(name, metadata.get("name"));
        if (first != null) {
            error(metadata.get("name"), resource, "duplicate " + kind + " name '" + name + "' (first defined at "
                    + first.location() + ")");
            return;
        }
        namespaces.put(resource, namespace);
        Checked spec = document.get("spec");
        switch (kind) {
            case Kinds.INFERENCE_POOL -> {
                poolNamespaces.put(name, namespace);
                pools.add(new Bound<>(pool(name, spec, resource), spec, resource, namespace));
            }
            case Kinds.MODEL_ROUTE -> bindRoute(name, spec, resource);
            case Kinds.TENANT -> bindTenant(name, spec, resource);
            case Kinds.GATEWAY -> bindGateway(name, spec, resource);
            case Kinds.TEAM -> spend.bindTeam(name, spec, resource, namespace);
            case Kinds.ORGANIZATION -> spend.bindOrganization(name, spec, resource, namespace);
            default -> throw new IllegalStateException("unchecked kind " + kind);
        }
    }

    /**
     * Records what is known of a resource that failed its shape check, {@code null} for what is not,
     * so a reference to it is not reported as unknown on top of its own errors.
     */
    void declareInvalid(String kind, String name, String namespace, String model) {
        String ns = namespace == null ? "" : namespace;
        if (Kinds.INFERENCE_POOL.equals(kind) && name != null) {
            poolNamespaces.put(name, ns);
        } else if (Kinds.MODEL_ROUTE.equals(kind) && model != null) {
            invalidModels.add(ns + "/" + model);
        }
    }

    /** Checks references between resources and returns the set (meaningful only when no errors were added). */
    PolicySet link() {
        Map<String, Bound<ModelRoute>> models = new HashMap<>(); // by namespace/model
        for (Bound<ModelRoute> route : routes) {
            List<Checked> versions = route.spec().list("versions");
            for (int i = 0; i < versions.size(); i++) {
                String pool = versions.get(i).string("pool", null);
                String poolNamespace = poolNamespaces.get(pool);
                if (poolNamespace == null) {
                    error(versions.get(i).get("pool"), route.resource(),
                            "unknown InferencePool '" + pool + "'" + known(" (defined pools: ", poolNamespaces.keySet()));
                } else if (!poolNamespace.equals(route.namespace())) {
                    error(versions.get(i).get("pool"), route.resource(), "InferencePool '" + pool + "' is in "
                            + describe(poolNamespace) + ", not " + describe(route.namespace()) + " (references stay within a namespace)");
                }
            }
            Bound<ModelRoute> other = models.putIfAbsent(route.namespace() + "/" + route.value().model(), route);
            if (other != null) {
                error(route.spec().get("model"), route.resource(), "model '" + route.value().model() + "' is already routed by "
                        + other.resource() + " (at " + other.spec().get("model").location() + ")");
            }
        }
        for (Bound<ModelRoute> route : routes) {
            Bound<Gateway> gateway = gateways.get(route.namespace());
            if (route.value().coalesce() != null && (gateway == null || gateway.value().filter() == null)) {
                error(route.spec().get("coalesce"), route.resource(),
                        "coalesce needs the ai-filter in the request path (a Gateway with spec.filter)");
            }
            if (route.value().rollout() != null && (gateway == null || gateway.value().filter() == null)) {
                error(route.spec().get("rollout"), route.resource(),
                        "rollout needs the ai-filter in the request path (a Gateway with spec.filter): it measures each version");
            }
            if (route.value().mirror() != null && (gateway == null || gateway.value().filter() == null)) {
                error(route.spec().get("mirror"), route.resource(),
                        "mirror needs the ai-filter in the request path (a Gateway with spec.filter): it sends the copies");
            }
            ModelRoute.Stickiness sticky = route.value().stickiness();
            if (sticky != null && (gateway == null || gateway.value().filter() == null)) {
                error(route.spec().get("stickiness"), route.resource(),
                        "stickiness needs the ai-filter in the request path (a Gateway with spec.filter): it reads the key");
            } else if (sticky != null && sticky.by() == ModelRoute.Stickiness.By.JWT_CLAIM
                    && gateway.value().identity().jwt() == null) {
                error(route.spec().get("stickiness").get("by"), route.resource(),
                        "'by: jwtClaim' needs verified JWTs (the Gateway's identity.jwt)");
            }
        }
        Set<String> routed = new HashSet<>(models.keySet());
        routed.addAll(invalidModels);
        for (Bound<Tenant> tenant : tenants) {
            List<Checked> named = new ArrayList<>(tenant.spec().list("allowedModels"));
            tenant.spec().list("limits").forEach(limit -> named.addAll(limit.list("models")));
            for (Checked item : named) {
                String model = (String) item.value();
                if (!model.equals("*") && !routed.contains(tenant.namespace() + "/" + model)) {
                    error(item, tenant.resource(), "unknown model '" + model + "'" + known(" (routed models: ",
                            modelsIn(models, tenant.namespace())));
                }
            }
        }
        gateways.forEach((namespace, gateway) -> {
            for (Checked plugin : gateway.spec().list("plugins")) {
                for (Checked item : plugin.list("models")) {
                    String model = (String) item.value();
                    if (!routed.contains(namespace + "/" + model)) {
                        error(item, gateway.resource(), "plugin '" + plugin.string("name", null) + "': unknown model '" + model + "'"
                                + known(" (routed models: ", modelsIn(models, namespace)));
                    }
                }
            }
        });
        List<Bound<InferencePool>> linked = new ArrayList<>();
        for (Bound<InferencePool> pool : pools) {
            Bound<Gateway> gateway = gateways.get(pool.namespace());
            boolean filtered = gateway != null && gateway.value().filter() != null;
            if (!filtered && pool.value() != null && pool.value().balancing().mode() == Balancing.Mode.PICKER) {
                error(pool.spec().get("balancing").get("mode"), pool.resource(),
                        "mode 'picker' needs the ai-filter in the request path (a Gateway with spec.filter)");
            }
            linked.add(dedicate(pool, filtered));
        }
        checkIdentities();
        checkOverrideHeaders();
        for (Bound<Tenant> tenant : tenants) {
            Checked priorities = tenant.spec().get("modelPriorities");
            if (priorities != null) {
                priorities.map().forEach((model, at) -> {
                    if (!routed.contains(tenant.namespace() + "/" + model)) {
                        error(at, tenant.resource(), "unknown model '" + model + "'"
                                + known(" (routed models: ", modelsIn(models, tenant.namespace())));
                    }
                });
            }
        }
        Set<String> filteredNamespaces = new HashSet<>();
        gateways.forEach((ns, gateway) -> {
            if (gateway.value().filter() != null) {
                filteredNamespaces.add(ns);
            }
        });
        spend.link(tenants.stream().filter(t -> t.value() != null)
                .map(t -> new SpendBinder.Bound<>(t.value(), t.spec(), t.resource(), t.namespace())).toList(), filteredNamespaces);
        Map<String, Gateway> byNamespace = new HashMap<>();
        gateways.forEach((ns, gateway) -> byNamespace.put(ns, gateway.value()));
        return new PolicySet(values(linked), values(routes), values(tenants), byNamespace, namespaces, spend.organizations(),
                spend.teams());
    }

    private static Set<String> modelsIn(Map<String, Bound<ModelRoute>> models, String namespace) {
        Set<String> names = new HashSet<>();
        models.forEach((key, route) -> {
            if (route.namespace().equals(namespace)) {
                names.add(route.value().model());
            }
        });
        return names;
    }

    private static String describe(String namespace) {
        return namespace.isEmpty() ? "the default namespace" : "namespace '" + namespace + "'";
    }

    /** Resolves a pool's {@code dedicatedTo} (tenant names and tiers) into the tenants it is reserved for. */
    private Bound<InferencePool> dedicate(Bound<InferencePool> pool, boolean filtered) {
        Checked dedicatedTo = pool.spec().get("dedicatedTo");
        if (dedicatedTo == null || pool.value() == null) {
            return pool;
        }
        if (!filtered) {
            error(dedicatedTo, pool.resource(), "a dedicated pool needs the ai-filter in the request path (a Gateway with spec.filter)");
        }
        Map<String, Tenant> byName = new HashMap<>();
        Map<String, List<String>> byTier = new HashMap<>();
        for (Bound<Tenant> tenant : tenants) {
            if (!tenant.namespace().equals(pool.namespace())) {
                continue; // references stay within a namespace
            }
            byName.put(tenant.value().name(), tenant.value());
            if (tenant.value().tier() != null) {
                byTier.computeIfAbsent(tenant.value().tier(), t -> new ArrayList<>()).add(tenant.value().name());
            }
        }
        Set<String> reserved = new HashSet<>();
        for (Checked item : dedicatedTo.list("tenants")) {
            String name = (String) item.value();
            if (byName.containsKey(name)) {
                reserved.add(name);
            } else {
                error(item, pool.resource(), "unknown Tenant '" + name + "'" + known(" (defined tenants: ", byName.keySet()));
            }
        }
        for (Checked item : dedicatedTo.list("tiers")) {
            String tier = (String) item.value();
            if (byTier.containsKey(tier)) {
                reserved.addAll(byTier.get(tier));
            } else {
                error(item, pool.resource(), "no Tenant has tier '" + tier + "'" + known(" (tiers: ", byTier.keySet()));
            }
        }
        if (dedicatedTo.get("tenants") == null && dedicatedTo.get("tiers") == null) {
            error(dedicatedTo, pool.resource(), "dedicatedTo needs 'tenants' or 'tiers'");
        }
        InferencePool p = pool.value();
        return new Bound<>(new InferencePool(p.name(), p.endpoints(), p.connectTimeout(), p.balancing(), reserved, p.selector()),
                pool.spec(), pool.resource(), pool.namespace());
    }

    /** Tenants' JWT and header identities need the Gateway to verify or trust them. */
    private void checkIdentities() {
        for (Bound<Tenant> tenant : tenants) {
            Bound<Gateway> gateway = gateways.get(tenant.namespace());
            Gateway.Identity identity = gateway == null ? Gateway.Identity.NONE : gateway.value().identity();
            Checked ways = tenant.spec().get("identity");
            if (!ways.list("apiKeys").isEmpty() && identity.jwt() != null && identity.jwt().header().equals("authorization")) {
                error(ways.get("apiKeys"), tenant.resource(), "API keys come in 'Authorization: Bearer', where "
                        + gateway.resource() + " takes JWTs (Envoy refuses a bearer value that is not a token); "
                        + "send the JWTs in another header (spec.identity.jwt.header)");
            }
            if (ways.get("jwtClaim") != null && identity.jwt() == null) {
                error(ways.get("jwtClaim"), tenant.resource(),
                        "a JWT identity needs a Gateway with spec.identity.jwt (the issuer and keys Envoy verifies tokens with)");
            }
            if (ways.get("header") != null && gateway != null && !identity.trustedHop()) {
                error(ways.get("header"), tenant.resource(), "a header identity is honoured only behind a trusted hop; "
                        + "set spec.identity.trustedHop: true on " + gateway.resource() + " if the hop before Envoy sets it");
            }
        }
    }

    /**
     * An override must not look at a header a client cannot really send: internal headers are removed
     * before routing, so an override on one would never match, or (were they ever kept) would let a
     * client's copy choose the version. Nor at the headers that identify a tenant, which would let a
     * tenant's credential pick another's version.
     */
    private void checkOverrideHeaders() {
        for (Bound<ModelRoute> route : routes) {
            Set<String> identityHeaders = new HashSet<>(Set.of("authorization"));
            Bound<Gateway> gateway = gateways.get(route.namespace());
            if (gateway != null && gateway.value().identity().jwt() != null) {
                identityHeaders.add(gateway.value().identity().jwt().header());
            }
            for (Bound<Tenant> tenant : tenants) {
                if (tenant.namespace().equals(route.namespace()) && tenant.value().trustedHeader() != null) {
                    identityHeaders.add(tenant.value().trustedHeader().name());
                }
            }
            for (Checked override : route.spec().list("overrides")) {
                String header = override.string("header", null);
                String reason = reservedHeader(header, identityHeaders);
                if (reason != null) {
                    error(override.get("header"), route.resource(), "'" + header + "' cannot select a version: " + reason);
                }
            }
            ModelRoute.Stickiness sticky = route.value().stickiness();
            if (sticky != null && sticky.by() == ModelRoute.Stickiness.By.HEADER) {
                String reason = reservedHeader(sticky.name(), identityHeaders);
                if (reason != null) {
                    error(route.spec().get("stickiness").get("name"), route.resource(),
                            "'" + sticky.name() + "' cannot be a stickiness key: " + reason);
                }
            }
        }
    }

    /** Why {@code header} may not be an override header, or {@code null} when it may. */
    private static String reservedHeader(String header, Set<String> identityHeaders) {
        if (header.startsWith(":")) {
            return "it is a pseudo-header";
        }
        if (header.contains("_")) {
            return "Envoy drops headers with '_' (backends may read them as '-', so they could pass for internal ones)";
        }
        if (WireContract.INTERNAL_HEADERS.contains(header)) {
            return "it is an internal aimesh header, which Envoy removes from every client request";
        }
        for (String prefix : List.of("x-gateway-", "x-envoy-")) {
            if (header.startsWith(prefix)) {
                return "'" + prefix + "*' headers belong to the gateway and Envoy, which remove or ignore clients' copies";
            }
        }
        if (identityHeaders.contains(header)) {
            return "it carries a tenant's identity";
        }
        return null;
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
        Map<String, String> selector = new java.util.TreeMap<>();
        Checked labels = spec.get("selector");
        if (labels != null) {
            labels.map().forEach((label, value) -> selector.put(label, (String) value.value()));
        }
        return new InferencePool(name, endpoints, spec.duration("connectTimeout", Duration.ofSeconds(2)), balancing(spec.get("balancing")),
                Set.of(), selector);
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
                (int) spec.integer("maxInFlight", d.maxInFlight()), spec.duration("retryAfter", d.retryAfter()), spec.string("whenSaturated", "reject").equals("queue"),
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
            versions.add(new ModelVersion(version, item.string("pool", null), weight, spend.pricing(item.get("pricing"), resource)));
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
                (int) spec.integer("defaultMaxTokens", 1024), coalesce(spec.get("coalesce")),
                stickiness(spec.get("stickiness"), resource), mirror(spec.get("mirror"), versionNames.keySet(), resource),
                rollout(spec.get("rollout"), versionNames.keySet(), resource), spend.pricing(spec.get("pricing"), resource)),
                spec, resource, namespace));
    }

    private ModelRoute.Stickiness stickiness(Checked stickiness, String resource) {
        if (stickiness == null) {
            return null;
        }
        ModelRoute.Stickiness.By by = switch (stickiness.string("by", "tenant")) {
            case "header" -> ModelRoute.Stickiness.By.HEADER;
            case "jwtClaim" -> ModelRoute.Stickiness.By.JWT_CLAIM;
            default -> ModelRoute.Stickiness.By.TENANT;
        };
        String name = stickiness.string("name", null);
        if (by == ModelRoute.Stickiness.By.TENANT && name != null) {
            error(stickiness.get("name"), resource, "'by: tenant' takes no name (the key is the tenant's name)");
            return null;
        }
        if (by != ModelRoute.Stickiness.By.TENANT && name == null) {
            error(stickiness.get("by"), resource, "'by: " + stickiness.string("by", "") + "' needs a name (the "
                    + (by == ModelRoute.Stickiness.By.HEADER ? "header" : "claim") + " that holds the key)");
            return null;
        }
        if (by == ModelRoute.Stickiness.By.HEADER && !name.matches("[a-z0-9!#$%&'*+.^_`|~-]+")) {
            error(stickiness.get("name"), resource, "'" + name + "' is not a lower-case HTTP header name");
            return null;
        }
        return new ModelRoute.Stickiness(by, name);
    }

    private ModelRoute.Mirror mirror(Checked mirror, Set<String> versions, String resource) {
        if (mirror == null) {
            return null;
        }
        String version = mirror.string("version", null);
        if (!versions.contains(version)) {
            error(mirror.get("version"), resource, "unknown version '" + version + "'" + known(" (versions: ", versions));
        }
        return new ModelRoute.Mirror(version, (int) mirror.integer("percent", 1), (int) mirror.integer("maxInFlight", 16));
    }

    private Rollout rollout(Checked rollout, Set<String> versions, String resource) {
        if (rollout == null) {
            return null;
        }
        String baseline = rollout.string("baseline", null);
        String canary = rollout.string("canary", null);
        for (String field : List.of("baseline", "canary")) {
            String version = rollout.string(field, null);
            if (!versions.contains(version)) {
                error(rollout.get(field), resource, "unknown version '" + version + "'" + known(" (versions: ", versions));
            }
        }
        if (baseline.equals(canary)) {
            error(rollout.get("canary"), resource, "the canary is the baseline ('" + canary + "'; expected: two versions)");
        }
        List<Rollout.Step> steps = new ArrayList<>();
        int previous = 0;
        for (Checked step : rollout.list("steps")) {
            int weight = (int) step.integer("weight", 1);
            if (weight <= previous) {
                error(step.get("weight"), resource, "weight " + weight + " after " + previous + " (expected: steps of increasing weight)");
            }
            previous = weight;
            steps.add(new Rollout.Step(weight, step.duration("minDuration", Duration.ofSeconds(60)),
                    step.integer("minRequests", 100)));
        }
        Checked analysis = rollout.get("analysis");
        Checked rules = analysis == null ? null : analysis.get("rules");
        List<Rollout.Rule> parsed = new ArrayList<>();
        if (rules == null) {
            parsed.add(new Rollout.Rule(Rollout.Metric.TTFT_P99, 1.5));
            parsed.add(new Rollout.Rule(Rollout.Metric.ERROR_RATE, 0.01));
        } else {
            for (Rollout.Metric metric : Rollout.Metric.values()) {
                String limit = rules.string(metric.field(), null);
                if (limit != null) {
                    parsed.add(new Rollout.Rule(metric, ruleLimit(limit)));
                }
            }
            if (parsed.isEmpty()) {
                error(rules, resource, "no rules (expected: at least one of ttftP50, ttftP99, tpotP50, tpotP99, errorRate, "
                        + "overloadRate, outputLengthDrift)");
            }
        }
        return new Rollout(baseline, canary, steps, new Rollout.Analysis(
                analysis == null ? 2 : analysis.integer("minSamples", 2),
                analysis == null ? Duration.ofMinutes(2) : analysis.duration("window", Duration.ofMinutes(2)), parsed));
    }

    /** {@code 1.3x} is 1.3; {@code +1%} and {@code 1%} are 0.01 (the shapes have checked the form). */
    private static double ruleLimit(String limit) {
        if (limit.endsWith("x")) {
            return Double.parseDouble(limit.substring(0, limit.length() - 1));
        }
        String number = limit.substring(limit.startsWith("+") ? 1 : 0, limit.length() - 1);
        return Double.parseDouble(number) / 100;
    }

    private static ModelRoute.Coalesce coalesce(Checked coalesce) {
        return coalesce == null ? null
                : new ModelRoute.Coalesce((int) coalesce.integer("maxBatch", 32), (int) coalesce.integer("maxInFlight", 2));
    }

    private void bindGateway(String name, Checked spec, String resource) {
        Bound<Gateway> other = gateways.get(namespace);
        if (other != null) {
            error(spec, resource, "only one Gateway is allowed per namespace (another is " + other.resource() + ")");
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
        Checked global = spec.get("globalLimits");
        Gateway.GlobalLimits globalLimits = global == null ? null : new Gateway.GlobalLimits(global.string("redis", null),
                global.integer("leaseTokens", 1000), global.duration("syncInterval", Duration.ofMillis(10)),
                global.string("whenRedisDown", "closed").equals("open"), global.integer("failOpenTokens", 0),
                global.duration("timeout", Duration.ofMillis(250)), io.aimesh.filter.api.Money.parseMicros(
                        global.string("spendLease", "1.00")));
        if (globalLimits != null && settings == null) {
            error(global, resource, "globalLimits needs the ai-filter in the request path (spec.filter)");
        }
        List<String> trusted = new ArrayList<>();
        for (Checked item : spec.list("trustedCidrs")) {
            String cidr = Cidrs.canonical((String) item.value());
            if (cidr == null) {
                error(item, resource, "'" + item.value() + "' is not a CIDR range (expected: an IPv4 or IPv6 address, '/', "
                        + "and a prefix length of at most 32 or 128)");
            } else {
                trusted.add(cidr);
            }
        }
        List<Gateway.Plugin> plugins = plugins(spec, resource);
        if (!plugins.isEmpty() && settings == null) {
            error(spec.get("plugins"), resource, "plugins run in the ai-filter: they need spec.filter");
        }
        gateways.put(namespace, new Bound<>(new Gateway(name, settings, identity(spec.get("identity"), resource), globalLimits,
                trusted, spec.string("currency", "USD"), plugins), spec, resource, namespace));
    }

    /** The Gateway's plugins, each module checked: readable, of its digest, a WebAssembly module with the proxy-wasm ABI. */
    private List<Gateway.Plugin> plugins(Checked spec, String resource) {
        List<Gateway.Plugin> plugins = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Checked item : spec.list("plugins")) {
            String pluginName = item.string("name", null);
            if (!names.add(pluginName)) {
                error(item.get("name"), resource, "plugin '" + pluginName + "' is listed twice");
                continue;
            }
            String file = item.string("file", null);
            String digest = item.string("sha256", null).substring("sha256:".length());
            String problem = WasmModules.check(java.nio.file.Path.of(file), digest);
            if (problem != null) {
                error(item.get("file"), resource, "plugin '" + pluginName + "': " + problem);
                continue;
            }
            long memoryBytes = Long.parseLong(item.string("memoryLimit", "64Mi").replace("Mi", "")) << 20;
            if (memoryBytes < 1L << 20 || memoryBytes > 4096L << 20) {
                error(item.get("memoryLimit"), resource, "plugin '" + pluginName + "': memoryLimit must be 1Mi to 4096Mi");
                continue;
            }
            String tooSmall = WasmModules.initialMemoryOver(java.nio.file.Path.of(file), memoryBytes);
            if (tooSmall != null) {
                error(item.get("memoryLimit"), resource, "plugin '" + pluginName + "': " + tooSmall);
                continue;
            }
            java.util.Set<io.aimesh.filter.api.PluginPhase> phases = java.util.EnumSet.noneOf(io.aimesh.filter.api.PluginPhase.class);
            for (String phase : item.strings("phases", List.of("requestHeaders", "requestBody", "responseHeaders", "responseBody"))) {
                phases.add(switch (phase) {
                    case "requestHeaders" -> io.aimesh.filter.api.PluginPhase.PLUGIN_PHASE_REQUEST_HEADERS;
                    case "requestBody" -> io.aimesh.filter.api.PluginPhase.PLUGIN_PHASE_REQUEST_BODY;
                    case "responseHeaders" -> io.aimesh.filter.api.PluginPhase.PLUGIN_PHASE_RESPONSE_HEADERS;
                    default -> io.aimesh.filter.api.PluginPhase.PLUGIN_PHASE_RESPONSE_BODY;
                });
            }
            plugins.add(new Gateway.Plugin(pluginName, file, digest, item.string("configuration", ""),
                    item.string("failureMode", "closed").equals("open"), item.strings("tenants", List.of()),
                    item.duration("timeout", Duration.ofMillis(100)), item.strings("models", List.of()), phases, memoryBytes));
        }
        return plugins;
    }

    private Gateway.Identity identity(Checked identity, String resource) {
        if (identity == null) {
            return Gateway.Identity.NONE;
        }
        Checked jwt = identity.get("jwt");
        Gateway.Jwt verified = null;
        if (jwt != null) {
            String file = jwt.string("jwksFile", null);
            String inline = jwt.string("jwks", null);
            if ((file == null) == (inline == null)) {
                error(jwt, resource, "give the issuer's keys as exactly one of 'jwksFile' or 'jwks'");
            } else if (inline != null && Jwks.hasSymmetricKey(inline)) {
                error(jwt.get("jwks"), resource, Jwks.SYMMETRIC_KEY_REFUSED);
            } else {
                verified = new Gateway.Jwt(jwt.string("issuer", null), jwt.strings("audiences", List.of()), file, inline,
                        jwt.string("tenantClaim", "sub"), jwt.string("header", "authorization"),
                        jwt.duration("clockSkew", Duration.ofSeconds(60)));
            }
        }
        return new Gateway.Identity(verified, identity.bool("trustedHop", false));
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
        String jwtClaim = identity.string("jwtClaim", null);
        if (jwtClaim != null) {
            claim("jwt " + jwtClaim, "JWT claim value '" + jwtClaim + "'", identity.get("jwtClaim"), resource);
        }
        if (keys.isEmpty() && header == null && jwtClaim == null) {
            error(identity, resource, "identity needs at least one of 'apiKeys', 'jwtClaim' or 'header'");
        }
        Map<String, Tenant.Priority> modelPriorities = new HashMap<>();
        Checked priorities = spec.get("modelPriorities");
        if (priorities != null) {
            priorities.map().forEach((model, value) -> modelPriorities.put(model, priority((String) value.value())));
        }
        List<TokenLimit> limits = new ArrayList<>();
        for (Checked limit : spec.list("limits")) {
            limits.add(limit(limit, resource));
        }
        tenants.add(new Bound<>(new Tenant(name, keys, jwtClaim,
                header == null ? null : new Tenant.HeaderMatch(header.string("name", null), header.string("value", null)),
                spec.strings("allowedModels", List.of("*")), priority(spec.string("priority", "standard")), modelPriorities,
                (int) spec.integer("share", 1), spec.string("tier", null), limits, spec.integer("requestsPerMinute", 0),
                spec.string("team", null), spend.budgets(spec.get("budgets"), resource, namespace),
                spend.keyBudgets(identity, resource, namespace)),
                spec, resource, namespace));
    }

    private static Tenant.Priority priority(String name) {
        return Tenant.Priority.valueOf(name.toUpperCase(Locale.ROOT));
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
