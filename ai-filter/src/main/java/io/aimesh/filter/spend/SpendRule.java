package io.aimesh.filter.spend;

import static java.util.Objects.requireNonNull;

import java.time.ZoneId;
import java.util.List;

/**
 * One budget of one account (a key, tenant, team or organisation), as the ledger enforces it.
 *
 * @param level the account's level
 * @param account the account's name
 * @param key the budget's stable name in the ledger, its journal and Redis: the level, the account
 *     and the period with its zone ({@code team/search/month@UTC}), so that a new amount keeps the
 *     spend already counted
 * @param amountMicros the most that may be spent in a period, {@code > 0}
 * @param period the period
 * @param zone the zone of its day boundary
 * @param alertPercents soft thresholds, increasing
 */
public record SpendRule(Level level, String account, String key, long amountMicros, Period period, ZoneId zone,
                        List<Integer> alertPercents) {
    public SpendRule {
        requireNonNull(level, "level");
        requireNonNull(account, "account");
        requireNonNull(key, "key");
        if (amountMicros <= 0) {
            throw new IllegalArgumentException("amountMicros: " + amountMicros + " (expected: > 0)");
        }
        requireNonNull(period, "period");
        requireNonNull(zone, "zone");
        alertPercents = List.copyOf(alertPercents);
    }

    /** The ledger key of the budget's first rule for {@code period} in {@code zone} at {@code level}/{@code account}. */
    public static String key(Level level, String account, Period period, ZoneId zone) {
        return level.label() + "/" + account + "/" + period.label() + "@" + zone.getId();
    }
}
