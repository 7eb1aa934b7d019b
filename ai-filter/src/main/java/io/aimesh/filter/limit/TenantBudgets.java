package io.aimesh.filter.limit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The budgets of one tenant under one {@link TenantLimits}, resolved per model ahead of time so
 * that an admission does one map lookup and no allocation to find them.
 *
 * <p>Each array lists the request budget first, then the rules' budgets in rule order; that order
 * decides which budget a denial names. Immutable after construction; the budgets themselves are
 * shared, thread-safe mutable state.
 */
final class TenantBudgets {
    private static final Budget[] NONE = {};

    final TenantLimits limits;
    /** The budgets of a model that no rule names: the request budget and the shared rules'. */
    private final Budget[] anyModel;
    /** The budgets of each model named by a rule, shared rules' included. */
    private final Map<String, Budget[]> namedModels;
    /** Every budget, keyed as a later configuration would find it. */
    private final Map<Key, Budget> byKey;
    /** When the limiter last recorded this tenant's use in its cache. */
    volatile long recordedUseAt;

    private TenantBudgets(TenantLimits limits, Budget[] anyModel, Map<String, Budget[]> namedModels, Map<Key, Budget> byKey) {
        this.limits = limits;
        this.anyModel = anyModel;
        this.namedModels = namedModels;
        this.byKey = byKey;
    }

    /**
     * The budgets for {@code limits}, taking over from {@code previous} (which may be {@code null})
     * every budget whose limit did not change, so its usage carries on; a changed limit starts empty.
     */
    static TenantBudgets of(TenantLimits limits, TenantBudgets previous, long nowMillis) {
        Map<Key, Budget> byKey = new HashMap<>();
        List<Budget> shared = new ArrayList<>();
        if (limits.requestsPerMinute() > 0) {
            Key key = Key.ofRequests(limits.requestsPerMinute());
            shared.add(reuse(previous, byKey, key, () -> Budget.forRequests(limits.requestsPerMinute(), nowMillis)));
        }
        Map<String, List<Budget>> perModel = new HashMap<>();
        for (LimitRule rule : limits.rules()) {
            for (String scope : rule.models()) {
                Key key = Key.of(rule, scope);
                Budget budget = reuse(previous, byKey, key, () -> Budget.forRule(rule, scope, nowMillis));
                if (rule.shared()) {
                    shared.add(budget);
                    perModel.values().forEach(budgets -> budgets.add(budget));
                } else {
                    perModel.computeIfAbsent(scope, model -> new ArrayList<>(shared)).add(budget);
                }
            }
        }
        Map<String, Budget[]> namedModels = new HashMap<>();
        perModel.forEach((model, budgets) -> namedModels.put(model, budgets.toArray(NONE)));
        return new TenantBudgets(limits, shared.toArray(NONE), Map.copyOf(namedModels), Map.copyOf(byKey));
    }

    /** The budgets a request for {@code model} must fit in; shared, do not modify. */
    Budget[] budgetsFor(String model) {
        if (namedModels.isEmpty()) {
            return anyModel;
        }
        Budget[] budgets = namedModels.get(model);
        return budgets != null ? budgets : anyModel;
    }

    /** The number of budgets, at least 1: the weight of this entry in the limiter's bounded cache. */
    int weight() {
        return Math.max(1, byKey.size());
    }

    private static Budget reuse(TenantBudgets previous, Map<Key, Budget> byKey, Key key,
                                Supplier<Budget> create) {
        Budget budget = previous == null ? null : previous.byKey.get(key);
        budget = budget != null ? budget : create.get();
        byKey.put(key, budget);
        return budget;
    }

    /** What identifies a budget across configurations: every field that shapes it. */
    private record Key(String limit, String scope, Duration window, long tokens, int inputWeight, int outputWeight, long burst) {
        static Key of(LimitRule rule, String scope) {
            return new Key(rule.id(), scope, rule.window(), rule.tokens(),
                    rule.cost().inputWeight(), rule.cost().outputWeight(), rule.burst());
        }

        static Key ofRequests(long requestsPerMinute) {
            return new Key(Denial.REQUESTS, LimitRule.ALL_MODELS, Duration.ofMinutes(1), requestsPerMinute, 0, 0, 0);
        }
    }
}
