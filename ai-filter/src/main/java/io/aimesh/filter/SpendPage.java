package io.aimesh.filter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aimesh.filter.api.Money;
import io.aimesh.filter.config.RuntimeConfig;
import io.aimesh.filter.config.SpendPlan;
import io.aimesh.filter.spend.Level;
import io.aimesh.filter.spend.SpendLedger;
import io.aimesh.filter.spend.SpendRule;
import io.aimesh.internal.AdminServer;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The admin API's {@code GET /spend}: spend and budget of every account, from the live ledger, as
 * JSON; {@code bin/aimesh spend} prints it. Query: {@code tenant}, {@code team} or
 * {@code organization} (that account with the accounts above and below it), and {@code period}
 * ({@code 2026-12}: the buckets of that month's last moment, or of now for the current month).
 * Amounts are decimal strings of the currency; settled spend is every replica's when spend is
 * shared (as this one last heard), reservations and per-model spend this replica's.
 */
final class SpendPage {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Supplier<RuntimeConfig> config;
    private final SpendLedger ledger;
    private final Clock clock;
    private final Supplier<Boolean> shared;

    SpendPage(Supplier<RuntimeConfig> config, SpendLedger ledger, Clock clock, Supplier<Boolean> shared) {
        this.config = config;
        this.ledger = ledger;
        this.clock = clock;
        this.shared = shared;
    }

    AdminServer.Reply render(URI uri) {
        RuntimeConfig current = config.get();
        if (current == null) {
            return new AdminServer.Reply(503, "{\"error\": \"no configuration yet\"}\n");
        }
        Map<String, String> query = new java.util.HashMap<>();
        AdminServer.query(uri).forEach((name, values) -> query.put(name, values.get(0)));
        Instant at = clock.instant();
        String period = query.get("period");
        if (period != null) {
            try {
                YearMonth month = YearMonth.parse(period);
                Instant end = month.plusMonths(1).atDay(1).atStartOfDay(java.time.ZoneOffset.UTC).toInstant().minusMillis(1);
                at = end.isBefore(at) ? end : at;
            } catch (DateTimeParseException e) {
                return new AdminServer.Reply(400, "{\"error\": \"period: expected YYYY-MM, like 2026-12\"}\n");
            }
        }
        SpendPlan plan = current.spend();
        Set<String> selected;
        try {
            selected = select(plan, query);
        } catch (IllegalArgumentException e) {
            return new AdminServer.Reply(404, JSON.createObjectNode().put("error", e.getMessage()).toString() + "\n");
        }
        ObjectNode root = JSON.createObjectNode().put("currency", plan.currency()).put("at", at.toString())
                .put("shared", shared.get());
        ArrayNode accounts = root.putArray("accounts");
        for (SpendPlan.Account account : plan.accounts()) {
            if (selected != null && !selected.contains(id(account.level(), account.name()))) {
                continue;
            }
            ObjectNode node = accounts.addObject().put("level", account.level().label()).put("name", account.name());
            if (account.parent() != null) {
                node.put("parent", account.parent());
            }
            ArrayNode budgets = node.putArray("budgets");
            for (SpendRule rule : account.rules()) {
                SpendLedger.Usage usage = ledger.usage(rule, at);
                ObjectNode budget = budgets.addObject().put("period", rule.period().label()).put("timeZone", rule.zone().getId())
                        .put("bucket", usage.window().id())
                        .put("amount", Money.format(rule.amountMicros()))
                        .put("spent", Money.format(usage.spentMicros()))
                        .put("reserved", Money.format(usage.reservedMicros()))
                        .put("remaining", Money.format(Math.max(0, rule.amountMicros() - usage.spentMicros() - usage.reservedMicros())))
                        .put("resetsAt", usage.window().end().toString());
                ObjectNode models = budget.putObject("byModel");
                usage.byModel().entrySet().stream().sorted(Map.Entry.comparingByKey())
                        .forEach(e -> models.put(e.getKey(), Money.format(e.getValue())));
            }
        }
        return new AdminServer.Reply(200, root.toPrettyString() + "\n");
    }

    /** The accounts a query selects (one account, its ancestors and descendants), or {@code null} for all. */
    private static Set<String> select(SpendPlan plan, Map<String, String> query) {
        Level level = null;
        String name = null;
        for (Level candidate : List.of(Level.TENANT, Level.TEAM, Level.ORGANIZATION)) {
            String value = query.get(candidate.label());
            if (value == null && candidate == Level.ORGANIZATION) {
                value = query.get("org");
            }
            if (value != null) {
                level = candidate;
                name = value;
            }
        }
        if (level == null) {
            return null;
        }
        SpendPlan.Account start = null;
        for (SpendPlan.Account account : plan.accounts()) {
            if (account.level() == level && account.name().equals(name)) {
                start = account;
            }
        }
        if (start == null) {
            throw new IllegalArgumentException("no " + level.label() + " '" + name + "' has spend budgets or belongs to one");
        }
        // The start's chain upwards, and every account whose chain upwards passes through it.
        Set<String> selected = new LinkedHashSet<>();
        for (SpendPlan.Account up = start; up != null; up = parentOf(plan, up)) {
            selected.add(id(up.level(), up.name()));
        }
        String startId = id(start.level(), start.name());
        for (SpendPlan.Account account : plan.accounts()) {
            for (SpendPlan.Account up = account; up != null; up = parentOf(plan, up)) {
                if (id(up.level(), up.name()).equals(startId)) {
                    selected.add(id(account.level(), account.name()));
                    break;
                }
            }
        }
        return selected;
    }

    private static SpendPlan.Account parentOf(SpendPlan plan, SpendPlan.Account account) {
        if (account.parent() == null || account.level() == Level.ORGANIZATION) {
            return null;
        }
        Level above = Level.values()[account.level().ordinal() + 1];
        return plan.accounts().stream().filter(a -> a.level() == above && a.name().equals(account.parent())).findFirst()
                .orElse(null);
    }

    private static String id(Level level, String name) {
        return level.label() + "/" + name;
    }

}
