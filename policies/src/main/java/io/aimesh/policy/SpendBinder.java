package io.aimesh.policy;

import io.aimesh.filter.api.Money;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The spend half of binding: prices, money budgets, and the Organization → Team → Tenant → key
 * hierarchy they form. {@link ResourceBinder} hands it the fields and kinds that are about money,
 * and asks it to check the hierarchy's references once every resource is bound. Not thread-safe.
 */
final class SpendBinder {
    private final List<PolicyError> errors;
    private final List<Bound<Organization>> organizations = new ArrayList<>();
    private final List<Bound<Team>> teams = new ArrayList<>();
    /** Resources whose budgets need the ai-filter, with where their budgets are, by namespace. */
    private final List<Bound<Checked>> budgeted = new ArrayList<>();

    /** A bound value with where it came from. */
    record Bound<T>(T value, Checked spec, String resource, String namespace) {
    }

    SpendBinder(List<PolicyError> errors) {
        this.errors = errors;
    }

    /** The budgets of a {@code budgets} list (empty when absent); notes that they need the filter. */
    List<SpendBudget> budgets(Checked list, String resource, String namespace) {
        List<SpendBudget> budgets = new ArrayList<>();
        if (list == null) {
            return budgets;
        }
        for (Checked item : list.items()) {
            budgets.add(budget(item, resource));
        }
        if (!budgets.isEmpty()) {
            budgeted.add(new Bound<>(list, list, resource, namespace));
        }
        return budgets;
    }

    private SpendBudget budget(Checked budget, String resource) {
        long amount = money(budget, "amount", resource);
        ZoneId zone = ZoneId.of("UTC");
        String name = budget.string("timeZone", "UTC");
        try {
            zone = ZoneId.of(name);
        } catch (DateTimeException e) {
            error(budget.get("timeZone"), resource, "unknown time zone '" + name + "' (expected: an IANA name like "
                    + "Europe/Berlin, or UTC)");
        }
        List<Integer> alerts = new ArrayList<>();
        Checked alertAt = budget.get("alertAt");
        if (alertAt == null) {
            alerts.add(80);
        } else {
            int previous = 0;
            for (Checked item : alertAt.items()) {
                int percent = (int) (long) (Long) item.value();
                if (percent <= previous) {
                    error(item, resource, percent + " after " + previous + " (expected: increasing percents)");
                }
                previous = percent;
                alerts.add(percent);
            }
        }
        return new SpendBudget(Math.max(1, amount), SpendBudget.Period.of(budget.string("period", "month")), zone,
                alerts.stream().filter(p -> p >= 1 && p <= 100).distinct().sorted().toList());
    }

    /** The prices of a {@code pricing} object, or {@code null} when absent. */
    Pricing pricing(Checked pricing, String resource) {
        if (pricing == null) {
            return null;
        }
        long input = money(pricing, "input", resource);
        long cached = pricing.get("cachedInput") == null ? input : money(pricing, "cachedInput", resource);
        return new Pricing(input, cached, money(pricing, "output", resource));
    }

    private long money(Checked object, String field, String resource) {
        try {
            return Money.parseMicros(object.string(field, "0"));
        } catch (IllegalArgumentException e) {
            error(object.get(field), resource, e.getMessage());
            return 0;
        }
    }

    void bindOrganization(String name, Checked spec, String resource, String namespace) {
        organizations.add(new Bound<>(new Organization(name, budgets(spec.get("budgets"), resource, namespace)), spec,
                resource, namespace));
    }

    void bindTeam(String name, Checked spec, String resource, String namespace) {
        teams.add(new Bound<>(new Team(name, spec.string("organization", null),
                budgets(spec.get("budgets"), resource, namespace)), spec, resource, namespace));
    }

    /**
     * The budgets of a tenant's API keys that have any; each key's name (its own, else {@code key-}
     * and the digest's first 12 digits) unique in the tenant.
     */
    List<Tenant.KeyBudgets> keyBudgets(Checked identity, String resource, String namespace) {
        List<Tenant.KeyBudgets> keys = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Checked key : identity.list("apiKeys")) {
            String digest = key.string("sha256", "sha256:").substring("sha256:".length());
            String name = key.string("name", digest.length() >= 12 ? "key-" + digest.substring(0, 12) : "key");
            if (key.get("name") != null && !names.add(name)) {
                error(key.get("name"), resource, "duplicate key name '" + name + "'");
            }
            List<SpendBudget> budgets = budgets(key.get("budgets"), resource, namespace);
            if (!budgets.isEmpty()) {
                keys.add(new Tenant.KeyBudgets(digest, name, budgets));
            }
        }
        return keys;
    }

    /**
     * Checks the hierarchy: a tenant's team and a team's organisation exist in its namespace, and
     * budgets have a Gateway with the ai-filter to enforce them.
     *
     * @param tenants each tenant with its spec and namespace
     * @param filtered the namespaces whose Gateway puts the ai-filter in the path
     */
    void link(List<Bound<Tenant>> tenants, Set<String> filtered) {
        Map<String, String> teamNamespaces = new HashMap<>();
        teams.forEach(t -> teamNamespaces.put(t.value().name(), t.namespace()));
        Map<String, String> orgNamespaces = new HashMap<>();
        organizations.forEach(o -> orgNamespaces.put(o.value().name(), o.namespace()));
        for (Bound<Tenant> tenant : tenants) {
            reference(tenant.value().team(), tenant.spec().get("team"), tenant, teamNamespaces, Kinds.TEAM);
        }
        for (Bound<Team> team : teams) {
            reference(team.value().organization(), team.spec().get("organization"), team, orgNamespaces, Kinds.ORGANIZATION);
        }
        for (Bound<Checked> budgets : budgeted) {
            if (!filtered.contains(budgets.namespace())) {
                error(budgets.value(), budgets.resource(),
                        "budgets need the ai-filter in the request path (a Gateway with spec.filter): it charges every request");
            }
        }
    }

    private void reference(String name, Checked at, Bound<?> from, Map<String, String> known, String kind) {
        if (name == null) {
            return;
        }
        String namespace = known.get(name);
        if (namespace == null) {
            Set<String> names = new java.util.TreeSet<>(known.keySet());
            error(at, from.resource(), "unknown " + kind + " '" + name + "'"
                    + (names.isEmpty() ? " (none are defined)" : " (defined: " + String.join(", ", names) + ")"));
        } else if (!namespace.equals(from.namespace())) {
            error(at, from.resource(), kind + " '" + name + "' is in another namespace (references stay within a namespace)");
        }
    }

    List<Organization> organizations() {
        return organizations.stream().map(Bound::value).toList();
    }

    List<Team> teams() {
        return teams.stream().map(Bound::value).toList();
    }

    private void error(Checked at, String resource, String message) {
        errors.add(new PolicyError(at.location(), at.path().isEmpty() ? resource : resource + ' ' + at.path(), message));
    }
}
