package io.aimesh.filter.spend;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Spend budgets in money: admits a request when its priced reservation fits every budget of every
 * level above it, and settles the reservation at the real cost.
 *
 * <h2>Buckets</h2>
 * A budget counts in buckets: its calendar period, or for a rolling 30 days each day, summed over
 * the last 30 ({@link Period}). A bucket ({@link Cell}) holds this replica's settled spend
 * ({@code mine}, durable in the {@link SpendJournal} when there is one, by model for reports), what
 * is reserved by requests in flight, and what the other replicas have spent ({@code others}, kept
 * current by {@link SpendSharing} when spend is shared through Redis; 0 otherwise).
 *
 * <h2>Admission</h2>
 * For each budget of the request's chain, in order (key, tenant, team, organisation): under the
 * bucket's monitor, {@code others + mine + reserved + cost <= amount} (for a rolling budget, with
 * the 29 days before added), then the cost is reserved. When one refuses, the ones already reserved
 * are released; no two monitors are ever held at once. A refusal names the level, account and
 * period that refused, what is left of it and when it resets. With sharing, a replica also holds at
 * most its lease beyond what Redis has ({@link SpendSharing#leaseMicros}).
 *
 * <h2>Bound</h2>
 * Admitted reservations never exceed a budget. Settled spend can exceed it only by what requests
 * cost beyond their reservations (a prompt longer than its estimate; reservations cover every
 * output the request may produce) and, when shared, by each replica's lease: at most
 * {@code amount + replicas * lease + overshoots} per period. A request counts in the bucket it was
 * admitted in, even when it ends after that bucket's period.
 *
 * <p>Thread-safe: {@link #admit} and a reservation's settlement from any thread; each bucket is a
 * small monitor held for a few field updates, never across I/O (the journal is written after).
 */
public final class SpendLedger {
    private final Clock clock;
    private final SpendJournal journal;
    private final Consumer<Alert> alerts;
    private final ConcurrentHashMap<String, Cell> cells = new ConcurrentHashMap<>();
    /** Each budget's current bucket, by rule key. */
    private final ConcurrentHashMap<String, Current> currents = new ConcurrentHashMap<>();
    /** How old the sum of a rolling budget's earlier days may be. */
    private static final long EARLIER_DAYS_MILLIS = 250;
    /** Set when spend is shared through Redis; {@code null} for this replica alone. */
    private volatile SpendSharing sharing;

    /**
     * @param clock places requests in periods
     * @param journal where settled spend is made durable, or {@code null} to keep it in memory only
     * @param alerts told of each soft threshold crossed, once per bucket and threshold (on the settling thread)
     */
    public SpendLedger(Clock clock, SpendJournal journal, Consumer<Alert> alerts) {
        this.clock = requireNonNull(clock, "clock");
        this.journal = journal;
        this.alerts = requireNonNull(alerts, "alerts");
        if (journal != null) {
            journal.recovered().forEach((line, micros) -> {
                int slash = line.lastIndexOf('|');
                String bucket = slash < 0 ? line : line.substring(0, slash);
                String model = slash < 0 ? "" : line.substring(slash + 1);
                cells.computeIfAbsent(bucket, Cell::new).recover(model, micros);
            });
        }
    }

    /** A soft threshold crossed: {@code percent} of {@code rule}'s amount spent in bucket {@code bucket}. */
    public record Alert(SpendRule rule, String bucket, int percent, long spentMicros) {
    }

    /** Shares every bucket's spend with the other replicas from now on. */
    void share(SpendSharing sharing) {
        this.sharing = sharing;
    }

    /**
     * Reserves {@code costMicros} in every budget of {@code rules}, or none.
     *
     * @param rules the request's budgets, narrowest level first
     * @param costMicros the priced reservation, {@code >= 0}
     */
    public SpendAdmission admit(List<SpendRule> rules, long costMicros) {
        Instant now = clock.instant();
        List<Held> held = new ArrayList<>(rules.size());
        SpendAdmission.Remaining tightest = null;
        SpendSharing shared = sharing;
        long millis = now.toEpochMilli();
        for (SpendRule rule : rules) {
            Current current = current(rule, now, millis);
            Period.Window window = current.window;
            Cell cell = current.cell;
            long before = current.earlier;
            long lease = shared == null ? Long.MAX_VALUE : shared.leaseMicros(rule.amountMicros());
            long used;
            SpendAdmission.Refusal refusal = null;
            synchronized (cell) {
                used = before + cell.others + cell.mine + cell.reserved;
                if (used + costMicros > rule.amountMicros()) {
                    refusal = SpendAdmission.Refusal.OVER_BUDGET;
                } else if (cell.unshared() > 0 && cell.unshared() + costMicros > lease) {
                    refusal = SpendAdmission.Refusal.LEASE_SPENT;
                } else {
                    cell.reserved += costMicros;
                }
                cell.active = true;
            }
            // A rolling budget frees up first when today ends and its oldest day leaves the 30.
            SpendAdmission.Remaining remaining = new SpendAdmission.Remaining(rule, window.id(),
                    Math.max(0, rule.amountMicros() - used - (refusal == null ? costMicros : 0)), window.end());
            if (refusal != null) {
                release(held);
                return SpendAdmission.refused(refusal, remaining);
            }
            held.add(new Held(rule, cell, costMicros, before));
            if (tightest == null || remaining.micros() < tightest.micros()) {
                tightest = remaining;
            }
            if (shared != null && cell.unshared() * 4 >= lease) {
                shared.reportSoon(cell);
            }
        }
        return SpendAdmission.admitted(new Reservation(held), tightest);
    }

    /**
     * A budget's current bucket, looked up once per period rather than once per request: the calendar
     * arithmetic and the bucket's name cost more than the admission itself. For a rolling budget,
     * with the 29 days before today summed, again at most every {@link #EARLIER_DAYS_MILLIS}: those
     * days change only as their last requests settle and other replicas report.
     */
    private Current current(SpendRule rule, Instant now, long millis) {
        Current current = currents.get(rule.key());
        if (current != null && millis >= current.startMillis && millis < current.endMillis
                && (rule.period() != Period.ROLLING_30D || millis - current.earlierAtMillis < EARLIER_DAYS_MILLIS)) {
            return current;
        }
        Period.Window window = rule.period().bucket(now, rule.zone());
        current = new Current(window, cell(rule, window), window.start().toEpochMilli(), window.end().toEpochMilli(),
                rule.period() == Period.ROLLING_30D ? earlierDays(rule, now) : 0, millis);
        currents.put(rule.key(), current);
        return current;
    }

    private record Current(Period.Window window, Cell cell, long startMillis, long endMillis, long earlier,
                           long earlierAtMillis) {
    }

    /** The settled and reserved spend of the 29 days before today in a rolling budget, all replicas'. */
    private long earlierDays(SpendRule rule, Instant now) {
        LocalDate today = LocalDate.ofInstant(now, rule.zone());
        long sum = 0;
        for (int back = 1; back < Period.ROLLING_DAYS; back++) {
            Cell cell = cells.get(rule.key() + "#" + today.minusDays(back));
            if (cell != null) {
                synchronized (cell) {
                    sum += cell.others + cell.mine + cell.reserved;
                }
            }
        }
        return sum;
    }

    private Cell cell(SpendRule rule, Period.Window window) {
        return cells.computeIfAbsent(rule.key() + "#" + window.id(), Cell::new);
    }

    private static void release(List<Held> held) {
        for (Held h : held) {
            synchronized (h.cell) {
                h.cell.reserved -= h.micros;
            }
        }
    }

    /** {@link #usage(SpendRule, Instant)} now, by this ledger's clock. */
    public Usage usage(SpendRule rule) {
        return usage(rule, clock.instant());
    }

    /**
     * What a budget has spent in the bucket of {@code at}: all replicas' settled spend (as this
     * replica last heard of the others'), what is reserved here, and this replica's spend by model.
     */
    public Usage usage(SpendRule rule, Instant at) {
        Period.Window window = rule.period().bucket(at, rule.zone());
        long before = rule.period() == Period.ROLLING_30D ? earlierDays(rule, at) : 0;
        Cell cell = cells.get(rule.key() + "#" + window.id());
        if (cell == null) {
            return new Usage(window, before, 0, Map.of());
        }
        synchronized (cell) {
            return new Usage(window, before + cell.others + cell.mine, cell.reserved, Map.copyOf(cell.byModel));
        }
    }

    /**
     * A budget's use in one bucket.
     *
     * @param window the bucket (for a rolling budget, today)
     * @param spentMicros settled spend of every replica (for a rolling budget, of its 30 days, in-flight ones of earlier days included)
     * @param reservedMicros reserved by requests in flight on this replica
     * @param byModel this replica's settled spend in the bucket, by model
     */
    public record Usage(Period.Window window, long spentMicros, long reservedMicros, Map<String, Long> byModel) {
    }

    /** The buckets this replica holds, for {@link SpendSharing}: each bucket's key and cell. */
    Map<String, Cell> cells() {
        return cells;
    }

    /** Whether the bucket {@code bucket} (RULE#ID) can still count at {@code now}: its period, or its 30 days, has not ended. */
    static boolean counts(String bucket, Instant now) {
        int hash = bucket.lastIndexOf('#');
        int at = bucket.lastIndexOf('@', hash);
        int slash = bucket.lastIndexOf('/', at);
        if (hash < 0 || at < 0 || slash < 0) {
            return false;
        }
        try {
            Period period = periodOf(bucket.substring(slash + 1, at));
            String zoneId = bucket.substring(at + 1, hash);
            int tilde = zoneId.indexOf('~'); // a second budget of the same period and zone
            java.time.ZoneId zone = java.time.ZoneId.of(tilde < 0 ? zoneId : zoneId.substring(0, tilde));
            String id = bucket.substring(hash + 1);
            LocalDate start = switch (period) {
                case DAY, ROLLING_30D -> LocalDate.parse(id);
                case MONTH -> LocalDate.parse(id + "-01");
                case WEEK -> LocalDate.parse(id.substring(0, 4) + "-01-04").with(java.time.temporal.IsoFields.WEEK_OF_WEEK_BASED_YEAR,
                        Long.parseLong(id.substring(6))).with(java.time.DayOfWeek.MONDAY);
            };
            return period.countsUntil(start.atStartOfDay(zone).toInstant(), zone).isAfter(now);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static Period periodOf(String label) {
        for (Period period : Period.values()) {
            if (period.label().equals(label)) {
                return period;
            }
        }
        throw new IllegalArgumentException(label);
    }

    /** Drops the buckets that no longer count and have nothing in flight, and compacts the journal when it is large. */
    public void sweep() {
        Instant now = clock.instant();
        currents.values().removeIf(current -> current.endMillis <= now.toEpochMilli());
        boolean shared = sharing != null;
        cells.values().removeIf(cell -> {
            synchronized (cell) {
                // Shared, a bucket stays until Redis has all of it: a late report must not undo what it spent.
                return cell.reserved == 0 && (!shared || cell.mine == cell.shared) && !counts(cell.bucket, now);
            }
        });
        if (journal != null) {
            journal.compactIfLarge(this::totals, bucket -> counts(bucket.substring(0, Math.max(0, bucket.lastIndexOf('|'))), now));
        }
    }

    /** Every bucket's settled spend on this replica by model, as journal lines {@code BUCKET|MODEL}. */
    private Map<String, Long> totals() {
        Map<String, Long> totals = new HashMap<>();
        for (Cell cell : cells.values()) {
            synchronized (cell) {
                cell.byModel.forEach((model, micros) -> totals.put(cell.bucket + "|" + model, micros));
            }
        }
        return totals;
    }

    /**
     * One request's reservation in the budgets of every level: settled once, at its real cost, or
     * released. Thread-safe.
     */
    public final class Reservation {
        private final List<Held> held;
        private boolean done;
        /** Set by {@link #settle}. */
        private volatile List<Left> left = List.of();

        private Reservation(List<Held> held) {
            this.held = held;
        }

        /** Charges {@code costMicros} for {@code model} instead of the reservation, durably; once. */
        public void settle(String model, long costMicros) {
            synchronized (this) {
                if (done) {
                    return;
                }
                done = true;
            }
            long[] spent = new long[held.size()];
            List<Left> left = new ArrayList<>(held.size());
            for (int i = 0; i < held.size(); i++) {
                Held h = held.get(i);
                long reserved;
                synchronized (h.cell) {
                    h.cell.reserved -= h.micros;
                    h.cell.charge(model, costMicros);
                    spent[i] = h.before + h.cell.others + h.cell.mine;
                    reserved = h.cell.reserved;
                }
                left.add(new Left(h.rule, h.rule.amountMicros() - spent[i] - reserved));
            }
            this.left = List.copyOf(left);
            if (journal != null && costMicros != 0) {
                List<String> buckets = new ArrayList<>(held.size());
                for (Held h : held) {
                    buckets.add(h.cell.bucket + "|" + model);
                }
                journal.append(buckets, costMicros);
            }
            for (int i = 0; i < held.size(); i++) {
                alert(held.get(i), spent[i]);
            }
            SpendSharing shared = sharing;
            if (shared != null) {
                for (Held h : held) {
                    shared.reportSoon(h.cell);
                }
            }
        }

        /** Returns the whole reservation: the request cost nothing. */
        public void release() {
            synchronized (this) {
                if (done) {
                    return;
                }
                done = true;
            }
            SpendLedger.release(held);
        }

        /** The reservation's cost, in micro-units. */
        public long micros() {
            return held.isEmpty() ? 0 : held.get(0).micros;
        }

        /** After {@link #settle}: what is left of each budget it was charged to, narrowest first; empty before. */
        public List<Left> left() {
            return left;
        }
    }

    /**
     * Announces each soft threshold {@code spent} has crossed, once per bucket; a threshold that
     * this replica's recovered spend had crossed before a restart was announced then, and is not again.
     */
    private void alert(Held h, long spent) {
        List<Integer> percents = h.rule.alertPercents();
        for (int i = 0; i < percents.size() && i < 31; i++) {
            long threshold = Math.multiplyHigh(h.rule.amountMicros(), percents.get(i)) == 0
                    ? h.rule.amountMicros() * percents.get(i) : Long.MAX_VALUE;
            if (spent * 100 >= threshold) {
                boolean first;
                synchronized (h.cell) {
                    first = (h.cell.alerted & (1 << i)) == 0 && h.cell.recovered * 100 < threshold;
                    h.cell.alerted |= 1 << i;
                }
                if (first) {
                    alerts.accept(new Alert(h.rule, h.cell.bucket, percents.get(i), spent));
                }
            }
        }
    }

    /** A reservation in one budget; {@code before}: a rolling budget's earlier days at admission. */
    private record Held(SpendRule rule, Cell cell, long micros, long before) {
    }

    /**
     * What a settled request left of one budget it was charged to.
     *
     * @param rule the budget
     * @param leftMicros its amount less everything spent and reserved in its period, as this replica knows it; may be negative
     */
    public record Left(SpendRule rule, long leftMicros) {
    }

    /** One budget's bucket. Guarded by itself. */
    static final class Cell {
        final String bucket;
        /** This replica's settled spend, and by model. */
        long mine;
        final Map<String, Long> byModel = new HashMap<>(4);
        long reserved;
        /** The other replicas' settled spend, as last read from Redis. */
        long others;
        /** The part of {@link #mine} Redis has acknowledged. */
        long shared;
        /** Soft thresholds already announced, by index. */
        int alerted;
        /** What this replica's journal held for the bucket when it started: thresholds it had crossed were announced before. */
        long recovered;
        /** Whether a report is queued ({@link SpendSharing}). */
        boolean queued;
        /** Whether it was used since the last periodic report ({@link SpendSharing}). */
        boolean active;

        Cell(String bucket) {
            this.bucket = bucket;
        }

        void recover(String model, long micros) {
            charge(model, micros);
            recovered += micros;
        }

        void charge(String model, long micros) {
            mine += micros;
            byModel.merge(model, micros, Long::sum);
        }

        /** What this replica has spent or reserved beyond what Redis has acknowledged. */
        long unshared() {
            return mine - shared + reserved;
        }
    }
}
