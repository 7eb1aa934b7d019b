package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

import java.time.ZoneId;
import java.util.List;
import java.util.Locale;

/**
 * A budget in money over a period, at one level of the spend hierarchy (organisation, team,
 * tenant or API key).
 *
 * @param amountMicros the most that may be spent in one period, in micro-units of the Gateway's currency, {@code > 0}
 * @param period the period
 * @param zone the time zone of calendar periods (day, week, month); also the day boundary of the rolling one
 * @param alertPercents soft thresholds in percent of the amount, increasing, each {@code 1..100}
 */
public record SpendBudget(long amountMicros, Period period, ZoneId zone, List<Integer> alertPercents) {
    /** The periods a budget can cover. */
    public enum Period {
        /** A calendar day in the budget's zone. */
        DAY("day"),
        /** A calendar week, Monday to Sunday (ISO 8601), in the budget's zone. */
        WEEK("week"),
        /** A calendar month in the budget's zone. */
        MONTH("month"),
        /** The current day and the 29 before it, in the budget's zone: a rolling 30 days. */
        ROLLING_30D("30d");

        private final String policyName;

        Period(String policyName) {
            this.policyName = policyName;
        }

        /** The name in policies, {@code day}, {@code week}, {@code month} or {@code 30d}. */
        public String policyName() {
            return policyName;
        }

        /** The period a policy names. */
        public static Period of(String policyName) {
            for (Period period : values()) {
                if (period.policyName.equals(policyName)) {
                    return period;
                }
            }
            throw new IllegalArgumentException("period: " + policyName + " (expected: day, week, month or 30d)");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public SpendBudget {
        if (amountMicros <= 0) {
            throw new IllegalArgumentException("amountMicros: " + amountMicros + " (expected: > 0)");
        }
        requireNonNull(period, "period");
        requireNonNull(zone, "zone");
        alertPercents = List.copyOf(alertPercents);
        for (int percent : alertPercents) {
            if (percent < 1 || percent > 100) {
                throw new IllegalArgumentException("alertPercents: " + alertPercents + " (expected: 1..100)");
            }
        }
    }
}
