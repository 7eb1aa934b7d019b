package io.aimesh.filter.spend;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

/** Calendar periods at their edges: month ends, a leap day, ISO weeks, zones, a daylight-saving change. */
class PeriodTest {
    private static final ZoneId UTC = ZoneId.of("UTC");
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    @Test
    void aMonth_endsAtTheNextMonthsMidnight_inItsZone() {
        Period.Window december = Period.MONTH.bucket(Instant.parse("2026-12-31T23:59:59.999Z"), UTC);
        assertThat(december).isEqualTo(new Period.Window("2026-12", Instant.parse("2026-12-01T00:00:00Z"),
                Instant.parse("2027-01-01T00:00:00Z")));
        assertThat(Period.MONTH.bucket(Instant.parse("2027-01-01T00:00:00Z"), UTC).id()).isEqualTo("2027-01");
        // 23:30 UTC on the 31st is already January in Berlin (UTC+1 in winter).
        Period.Window berlin = Period.MONTH.bucket(Instant.parse("2026-12-31T23:30:00Z"), BERLIN);
        assertThat(berlin.id()).isEqualTo("2027-01");
        assertThat(berlin.start()).isEqualTo(Instant.parse("2026-12-31T23:00:00Z"));
    }

    @Test
    void february_ofALeapYear_hasItsTwentyNinthDay() {
        Period.Window leap = Period.MONTH.bucket(Instant.parse("2028-02-29T12:00:00Z"), UTC);
        assertThat(leap.id()).isEqualTo("2028-02");
        assertThat(leap.end()).isEqualTo(Instant.parse("2028-03-01T00:00:00Z"));
        assertThat(Period.DAY.bucket(Instant.parse("2028-02-29T12:00:00Z"), UTC).id()).isEqualTo("2028-02-29");
        assertThat(Period.MONTH.bucket(Instant.parse("2027-02-28T23:59:59Z"), UTC).end())
                .isEqualTo(Instant.parse("2027-03-01T00:00:00Z"));
    }

    @Test
    void aWeek_runsMondayToSunday_withItsIsoNumber() {
        // 2027-01-01 is a Friday in ISO week 53 of 2026.
        Period.Window week = Period.WEEK.bucket(Instant.parse("2027-01-01T10:00:00Z"), UTC);
        assertThat(week.id()).isEqualTo("2026-W53");
        assertThat(week.start()).isEqualTo(Instant.parse("2026-12-28T00:00:00Z"));
        assertThat(week.end()).isEqualTo(Instant.parse("2027-01-04T00:00:00Z"));
    }

    @Test
    void theDayOfASpringForwardChange_is23HoursLong() {
        Period.Window day = Period.DAY.bucket(Instant.parse("2027-03-28T12:00:00Z"), BERLIN);
        assertThat(java.time.Duration.between(day.start(), day.end())).isEqualTo(java.time.Duration.ofHours(23));
    }

    @Test
    void rollingThirtyDays_countSpendUntilThe30thMidnightAfterItsDay() {
        Instant at = Instant.parse("2026-12-05T15:00:00Z");
        assertThat(Period.ROLLING_30D.bucket(at, UTC).id()).isEqualTo("2026-12-05");
        assertThat(Period.ROLLING_30D.countsUntil(at, UTC)).isEqualTo(Instant.parse("2027-01-04T00:00:00Z"));
        assertThat(Period.MONTH.countsUntil(at, UTC)).isEqualTo(Instant.parse("2027-01-01T00:00:00Z"));
    }

    @Test
    void aBucketsName_tellsWhetherItStillCounts() {
        String month = SpendRule.key(Level.TEAM, "search", Period.MONTH, BERLIN) + "#2026-12";
        assertThat(SpendLedger.counts(month, Instant.parse("2026-12-31T22:59:59Z"))).isTrue();
        assertThat(SpendLedger.counts(month, Instant.parse("2026-12-31T23:00:00Z"))).isFalse();
        String week = SpendRule.key(Level.KEY, "ci", Period.WEEK, UTC) + "#2026-W53";
        assertThat(SpendLedger.counts(week, Instant.parse("2027-01-03T23:59:59Z"))).isTrue();
        assertThat(SpendLedger.counts(week, Instant.parse("2027-01-04T00:00:00Z"))).isFalse();
        String rolling = SpendRule.key(Level.TENANT, "t", Period.ROLLING_30D, UTC) + "#2026-12-05";
        assertThat(SpendLedger.counts(rolling, Instant.parse("2027-01-03T12:00:00Z"))).isTrue();
        assertThat(SpendLedger.counts(rolling, Instant.parse("2027-01-04T00:00:00Z"))).isFalse();
        assertThat(SpendLedger.counts("not a bucket", Instant.EPOCH)).isFalse();
    }
}
