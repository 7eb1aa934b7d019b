package io.aimesh.filter.spend;

import static java.util.Objects.requireNonNull;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.IsoFields;
import java.time.temporal.TemporalAdjusters;
import java.util.Locale;

/**
 * The periods a spend budget counts over, as calendar arithmetic in the budget's time zone: a day,
 * an ISO week (Monday to Sunday), a month, or the rolling 30 days that end with the current day.
 * Every period starts at a local midnight ({@link LocalDate#atStartOfDay(ZoneId)}, which also
 * handles zones whose midnight a daylight-saving change skips). Stateless.
 */
public enum Period {
    DAY("day"), WEEK("week"), MONTH("month"), ROLLING_30D("30d");

    /** Days a rolling period covers: the current one and the 29 before it. */
    public static final int ROLLING_DAYS = 30;

    private final String label;

    Period(String label) {
        this.label = label;
    }

    /** {@code day}, {@code week}, {@code month} or {@code 30d}, as policies and reports name it. */
    public String label() {
        return label;
    }

    /**
     * The bucket {@code at} falls in, in {@code zone}: for a calendar period the period itself, for
     * the rolling one the day (a rolling period is the sum of its last {@link #ROLLING_DAYS} day buckets).
     */
    public Window bucket(Instant at, ZoneId zone) {
        LocalDate day = LocalDate.ofInstant(requireNonNull(at, "at"), requireNonNull(zone, "zone"));
        return switch (this) {
            case DAY, ROLLING_30D -> new Window(day.toString(), day.atStartOfDay(zone).toInstant(),
                    day.plusDays(1).atStartOfDay(zone).toInstant());
            case WEEK -> {
                LocalDate monday = day.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
                String id = String.format(Locale.ROOT, "%d-W%02d", monday.get(IsoFields.WEEK_BASED_YEAR),
                        monday.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
                yield new Window(id, monday.atStartOfDay(zone).toInstant(), monday.plusWeeks(1).atStartOfDay(zone).toInstant());
            }
            case MONTH -> {
                LocalDate first = day.withDayOfMonth(1);
                yield new Window(first.toString().substring(0, 7), first.atStartOfDay(zone).toInstant(),
                        first.plusMonths(1).atStartOfDay(zone).toInstant());
            }
        };
    }

    /**
     * When spend counted at {@code at} stops counting: the end of its calendar period, or for the
     * rolling period the end of the 30th day from its day on.
     */
    public Instant countsUntil(Instant at, ZoneId zone) {
        Window bucket = bucket(at, zone);
        if (this != ROLLING_30D) {
            return bucket.end();
        }
        LocalDate day = LocalDate.ofInstant(at, zone);
        return day.plusDays(ROLLING_DAYS).atStartOfDay(zone).toInstant();
    }

    /**
     * One bucket of a period.
     *
     * @param id the bucket's stable name, e.g. {@code 2026-12}, {@code 2026-W49}, {@code 2026-12-05}
     * @param start its first instant
     * @param end the first instant after it
     */
    public record Window(String id, Instant start, Instant end) {
    }
}
