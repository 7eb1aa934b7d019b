package io.aimesh.filter.spend;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpendLedgerTest {
    private static final ZoneId UTC = ZoneId.of("UTC");
    private static final SpendRule KEY_DAY = rule(Level.KEY, "ci", 5_000_000, Period.DAY);
    private static final SpendRule TENANT_MONTH = rule(Level.TENANT, "prod", 20_000_000, Period.MONTH);
    private static final SpendRule TEAM_MONTH = rule(Level.TEAM, "search", 12_000_000, Period.MONTH);

    @TempDir
    Path directory;
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-05T12:00:00Z"));
    private final List<SpendLedger.Alert> alerts = new ArrayList<>();
    private final Clock clock = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    };

    private static SpendRule rule(Level level, String account, long micros, Period period) {
        return new SpendRule(level, account, SpendRule.key(level, account, period, UTC), micros, period, UTC, List.of(50, 80));
    }

    private SpendLedger ledger(SpendJournal journal) {
        return new SpendLedger(clock, journal, alerts::add);
    }

    @Test
    void aRequestMustFitEveryLevel_andTheRefusalNamesTheOneThatRefused() {
        SpendLedger ledger = ledger(null);
        List<SpendRule> chain = List.of(KEY_DAY, TENANT_MONTH, TEAM_MONTH);

        SpendAdmission first = ledger.admit(chain, 4_000_000);
        SpendAdmission second = ledger.admit(chain, 2_000_000);

        assertThat(first.admitted()).isTrue();
        assertThat(first.remaining().rule()).isEqualTo(KEY_DAY);
        assertThat(first.remaining().micros()).isEqualTo(1_000_000);
        assertThat(second.admitted()).isFalse();
        assertThat(second.refusal()).isEqualTo(SpendAdmission.Refusal.OVER_BUDGET);
        assertThat(second.remaining().rule().level()).isEqualTo(Level.KEY);
        assertThat(second.remaining().micros()).isEqualTo(1_000_000);
        assertThat(second.remaining().resetsAt()).isEqualTo(Instant.parse("2026-12-06T00:00:00Z"));
        // Nothing stays reserved for the refused request at the levels it passed.
        assertThat(ledger.usage(TENANT_MONTH, now.get()).reservedMicros()).isEqualTo(4_000_000);
    }

    @Test
    void settling_chargesTheRealCost_atEveryLevel_andReleasingChargesNothing() {
        SpendLedger ledger = ledger(null);
        List<SpendRule> chain = List.of(TENANT_MONTH, TEAM_MONTH);
        SpendAdmission admitted = ledger.admit(chain, 3_000_000);
        SpendAdmission refunded = ledger.admit(chain, 1_000_000);

        admitted.reservation().settle("llama", 1_250_000);
        refunded.reservation().release();
        admitted.reservation().settle("llama", 9_999_999); // once only

        SpendLedger.Usage team = ledger.usage(TEAM_MONTH, now.get());
        assertThat(team.spentMicros()).isEqualTo(1_250_000);
        assertThat(team.reservedMicros()).isZero();
        assertThat(team.byModel()).containsEntry("llama", 1_250_000L);
        assertThat(team.window().id()).isEqualTo("2026-12");
    }

    @Test
    void aMonthBoundary_resetsExactlyTheMonthlyBudgets() {
        SpendLedger ledger = ledger(null);
        SpendRule weekly = rule(Level.TENANT, "prod", 20_000_000, Period.WEEK);
        now.set(Instant.parse("2026-12-31T23:59:00Z")); // a Thursday: its week runs into January
        ledger.admit(List.of(TEAM_MONTH, weekly), 10_000_000).reservation().settle("llama", 10_000_000);

        now.set(Instant.parse("2027-01-01T00:00:00Z"));

        assertThat(ledger.usage(TEAM_MONTH, now.get()).spentMicros()).isZero();
        assertThat(ledger.usage(weekly, now.get()).spentMicros()).isEqualTo(10_000_000);
        assertThat(ledger.admit(List.of(TEAM_MONTH, weekly), 10_000_001).refusal()).isEqualTo(SpendAdmission.Refusal.OVER_BUDGET);
        assertThat(ledger.admit(List.of(TEAM_MONTH, weekly), 10_000_000).admitted()).isTrue();
    }

    @Test
    void aRollingBudget_countsTheLast30Days() {
        SpendLedger ledger = ledger(null);
        SpendRule rolling = rule(Level.TENANT, "prod", 10_000_000, Period.ROLLING_30D);
        now.set(Instant.parse("2026-11-01T10:00:00Z"));
        ledger.admit(List.of(rolling), 6_000_000).reservation().settle("llama", 6_000_000);
        now.set(Instant.parse("2026-11-20T10:00:00Z"));
        ledger.admit(List.of(rolling), 3_000_000).reservation().settle("llama", 3_000_000);

        now.set(Instant.parse("2026-11-30T23:00:00Z")); // Nov 1 is still one of the last 30 days
        assertThat(ledger.admit(List.of(rolling), 2_000_000).admitted()).isFalse();
        now.set(Instant.parse("2026-12-01T00:00:00Z")); // now it is not
        assertThat(ledger.usage(rolling, now.get()).spentMicros()).isEqualTo(3_000_000);
        assertThat(ledger.admit(List.of(rolling), 7_000_000).admitted()).isTrue();
    }

    @Test
    void softThresholds_areAnnouncedOncePerBucket() {
        SpendLedger ledger = ledger(null);
        for (int i = 0; i < 10; i++) {
            ledger.admit(List.of(TEAM_MONTH), 1_000_000).reservation().settle("llama", 1_000_000);
        }

        assertThat(alerts).extracting(SpendLedger.Alert::percent).containsExactly(50, 80);
        assertThat(alerts.get(0).spentMicros()).isEqualTo(6_000_000);
        assertThat(alerts.get(0).bucket()).endsWith("#2026-12");
    }

    @Test
    void aThresholdCrossedBeforeARestart_isNotAnnouncedAgain_andTheNextOneIs() throws Exception {
        try (SpendJournal journal = SpendJournal.open(directory, 1 << 20, 100)) {
            SpendLedger ledger = ledger(journal);
            ledger.admit(List.of(TEAM_MONTH), 7_000_000).reservation().settle("llama", 7_000_000); // 58 %
        }
        assertThat(alerts).extracting(SpendLedger.Alert::percent).containsExactly(50);
        alerts.clear();
        try (SpendJournal journal = SpendJournal.open(directory, 1 << 20, 100)) {
            SpendLedger ledger = ledger(journal);
            ledger.admit(List.of(TEAM_MONTH), 1_000_000).reservation().settle("llama", 1_000_000); // 67 %
            assertThat(alerts).isEmpty();
            ledger.admit(List.of(TEAM_MONTH), 2_000_000).reservation().settle("llama", 2_000_000); // 83 %
            assertThat(alerts).extracting(SpendLedger.Alert::percent).containsExactly(80);
        }
    }

    @Test
    void aRestartedLedger_recoversEverySettledChargeFromItsJournal_andATornLineIsSkipped() throws Exception {
        try (SpendJournal journal = SpendJournal.open(directory, 1 << 20, 100)) {
            SpendLedger ledger = ledger(journal);
            ledger.admit(List.of(TENANT_MONTH, TEAM_MONTH), 2_000_000).reservation().settle("llama", 1_500_000);
            ledger.admit(List.of(TENANT_MONTH, TEAM_MONTH), 2_000_000).reservation().settle("mistral", 500_000);
            ledger.admit(List.of(TENANT_MONTH), 2_000_000); // in flight at the crash: never charged
        }
        java.nio.file.Files.writeString(directory.resolve("spend.journal"), "team/search/month@UTC#2026-12|llama\t99",
                java.nio.file.StandardOpenOption.APPEND);
        String replica;
        try (SpendJournal journal = SpendJournal.open(directory, 1 << 20, 100)) {
            replica = journal.replica();
            SpendLedger ledger = ledger(journal);

            assertThat(ledger.usage(TEAM_MONTH, now.get()).spentMicros()).isEqualTo(2_000_000);
            assertThat(ledger.usage(TEAM_MONTH, now.get()).byModel()).containsEntry("llama", 1_500_000L)
                    .containsEntry("mistral", 500_000L);
            assertThat(ledger.usage(TENANT_MONTH, now.get()).spentMicros()).isEqualTo(2_000_000);
            assertThat(ledger.usage(TENANT_MONTH, now.get()).reservedMicros()).isZero();
        }
        try (SpendJournal journal = SpendJournal.open(directory, 1 << 20, 100)) {
            assertThat(journal.replica()).as("a restarted replica keeps its id").isEqualTo(replica);
            ledger(journal).admit(List.of(TEAM_MONTH), 1_000).reservation().settle("llama", 1_000);
        }
        try (SpendJournal journal = SpendJournal.open(directory, 1 << 20, 100)) {
            // The torn line was cut before the charge after it was written: both are whole.
            assertThat(ledger(journal).usage(TEAM_MONTH, now.get()).spentMicros()).isEqualTo(2_001_000);
        }
    }

    @Test
    void compaction_keepsTheTotalsOfBucketsThatStillCount() throws Exception {
        try (SpendJournal journal = SpendJournal.open(directory, 64, 100)) {
            SpendLedger ledger = ledger(journal);
            SpendRule daily = rule(Level.KEY, "ci", 100_000_000, Period.DAY);
            now.set(Instant.parse("2026-12-04T12:00:00Z"));
            ledger.admit(List.of(daily, TEAM_MONTH), 1_000_000).reservation().settle("llama", 1_000_000);
            now.set(Instant.parse("2026-12-05T12:00:00Z"));
            for (int i = 0; i < 5; i++) {
                ledger.admit(List.of(daily, TEAM_MONTH), 1_000_000).reservation().settle("llama", 1_000_000);
            }
            ledger.sweep();
            assertThat(java.nio.file.Files.size(directory.resolve("spend.journal"))).isZero();
            assertThat(ledger.usage(daily, Instant.parse("2026-12-04T12:00:00Z")).spentMicros()).as("dropped").isZero();
            assertThat(java.nio.file.Files.readString(directory.resolve("spend.snapshot"))).doesNotContain("#2026-12-04");
        }
        try (SpendJournal journal = SpendJournal.open(directory, 64, 100)) {
            SpendLedger ledger = ledger(journal);
            assertThat(ledger.usage(TEAM_MONTH, now.get()).spentMicros()).isEqualTo(6_000_000);
        }
    }

    @Test
    void concurrentRequests_neverReserveMoreThanTheBudget() throws Exception {
        SpendLedger ledger = ledger(null);
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        java.util.concurrent.atomic.AtomicLong admitted = new java.util.concurrent.atomic.AtomicLong();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 10_000; i++) {
                    SpendAdmission a = ledger.admit(List.of(KEY_DAY, TEAM_MONTH), 1_000);
                    if (a.admitted()) {
                        admitted.addAndGet(1_000);
                        a.reservation().settle("llama", 1_000);
                    }
                }
            });
            worker.start();
            workers.add(worker);
        }
        start.countDown();
        for (Thread worker : workers) {
            worker.join();
        }

        assertThat(admitted.get()).isEqualTo(KEY_DAY.amountMicros());
        assertThat(ledger.usage(KEY_DAY, now.get()).spentMicros()).isEqualTo(KEY_DAY.amountMicros());
    }
}
