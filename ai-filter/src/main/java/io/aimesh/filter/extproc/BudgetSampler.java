package io.aimesh.filter.extproc;

import io.aimesh.filter.api.BudgetSample;
import io.aimesh.filter.config.RuntimeConfig;
import io.aimesh.filter.limit.TokenLimiter;
import io.aimesh.filter.spend.SpendLedger;
import io.aimesh.filter.spend.SpendRule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The budgets of the tenants this replica served in the last minute, as it sees them now, for the
 * control plane's dashboard: each token limit (what this replica's window has used) and each spend
 * budget of the tenant's chain (every replica's spend when shared). Read without charging.
 */
public final class BudgetSampler implements Supplier<List<BudgetSample>> {
    private static final long ACTIVE_MILLIS = 60_000;

    private final FilterContext context;
    private final TokenLimiter limiter;
    private final FilterMetrics metrics;

    public BudgetSampler(FilterContext context, TokenLimiter limiter, FilterMetrics metrics) {
        this.context = context;
        this.limiter = limiter;
        this.metrics = metrics;
    }

    @Override
    public List<BudgetSample> get() {
        RuntimeConfig config = context.config();
        if (config == null) {
            return List.of();
        }
        long now = System.currentTimeMillis();
        List<BudgetSample> samples = new ArrayList<>();
        for (Map.Entry<String, Set<String>> active : metrics.traffic().activeTenants(now - ACTIVE_MILLIS).entrySet()) {
            RuntimeConfig.TenantInfo tenant = config.tenant(active.getKey());
            if (tenant == null) {
                continue;
            }
            Map<String, TokenLimiter.Headroom> limits = new LinkedHashMap<>(); // a limit over every model counts once
            for (String model : active.getValue()) {
                for (TokenLimiter.Headroom room : limiter.headroom(tenant.limits(), model, 0, 0)) {
                    limits.putIfAbsent(room.limit() + "|" + room.scope(), room);
                }
            }
            limits.values().forEach(room -> samples.add(BudgetSample.newBuilder().setTenant(tenant.name()).setKind("limit")
                    .setName(room.limit()).setPeriod(room.window().toString().substring(2).toLowerCase(Locale.ROOT))
                    .setUsed(room.used()).setAmount(room.tokens()).setResetsAtMs(now + room.millisUntilReset()).build()));
            SpendLedger ledger = context.spend();
            for (SpendRule rule : config.spend().chain(tenant.name(), null)) {
                SpendLedger.Usage usage = ledger.usage(rule);
                samples.add(BudgetSample.newBuilder().setTenant(tenant.name()).setKind("spend")
                        .setName(rule.level().label() + " " + rule.account()).setPeriod(rule.period().label())
                        .setUsed(usage.spentMicros()).setAmount(rule.amountMicros())
                        .setResetsAtMs(usage.window().end().toEpochMilli()).build());
            }
        }
        return samples;
    }
}
