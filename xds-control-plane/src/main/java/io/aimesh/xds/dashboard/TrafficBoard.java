package io.aimesh.xds.dashboard;

import static java.util.Objects.requireNonNull;

import io.aimesh.filter.api.BudgetSample;
import io.aimesh.filter.api.EndpointSample;
import io.aimesh.filter.api.LatencyBuckets;
import io.aimesh.filter.api.TenantSample;
import io.aimesh.filter.api.VersionSample;
import io.aimesh.filter.api.VersionStatsReport;
import io.aimesh.policy.ModelRoute;
import io.aimesh.policy.ModelVersion;
import io.aimesh.policy.PolicySet;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the dashboard shows of the traffic, added up from every ai-filter replica's reports (the
 * reports rollouts judge, counted once each: see {@code RolloutController#report}). Counts land
 * in {@value #SLOT_SECONDS}-second slots of the last ten minutes, by the time the control plane
 * received them; a replica's counts add to the others'. Endpoints are gauges: each replica's latest
 * sample stands for {@value #REPORT_STALE_SECONDS} s; in-flight requests add up over replicas,
 * the model server's own numbers (queue, KV cache) are the freshest any replica scraped.
 * Thread-safe (synchronized: a few reports a second per replica, a render per viewer poll).
 */
public final class TrafficBoard {
    static final int SLOT_SECONDS = 5;
    /** The window of the "now" figures (rates, percentiles). */
    static final int RECENT_SLOTS = 12;
    static final int REPORT_STALE_SECONDS = 10;

    private final Clock clock;
    private final Map<VersionKey, VersionSeries> versions = new TreeMap<>();
    private final Map<TenantKey, TenantSeries> tenants = new TreeMap<>();
    private final Map<EndpointKey, Map<String, Seen>> endpoints = new TreeMap<>();
    private final Map<EndpointKey, Ring> picks = new TreeMap<>();
    /** Each tenant's budgets by kind and name, then by replica: the latest sample of each. */
    private final Map<TenantKey, Map<String, Map<String, BudgetSeen>>> budgets = new TreeMap<>();
    /** Route weights by namespace, model, version, from the policies last applied. */
    private Map<VersionKey, Integer> weights = Map.of();

    record VersionKey(String scope, String model, String version) implements Comparable<VersionKey> {
        @Override
        public int compareTo(VersionKey o) {
            return java.util.Comparator.comparing(VersionKey::scope).thenComparing(VersionKey::model)
                    .thenComparing(VersionKey::version).compare(this, o);
        }
    }

    record TenantKey(String scope, String tenant) implements Comparable<TenantKey> {
        @Override
        public int compareTo(TenantKey o) {
            return java.util.Comparator.comparing(TenantKey::scope).thenComparing(TenantKey::tenant).compare(this, o);
        }
    }

    record EndpointKey(String scope, String pool, String endpoint) implements Comparable<EndpointKey> {
        @Override
        public int compareTo(EndpointKey o) {
            return java.util.Comparator.comparing(EndpointKey::scope).thenComparing(EndpointKey::pool)
                    .thenComparing(EndpointKey::endpoint).compare(this, o);
        }
    }

    private record Seen(EndpointSample sample, long atMillis) {
    }

    private record BudgetSeen(BudgetSample sample, long atMillis) {
    }

    static final class VersionSeries {
        final Ring requests = new Ring();
        final Ring errors = new Ring();
        final Ring overloads = new Ring();
        final Ring outputTokens = new Ring();
        final long[][] ttft = new long[Ring.SLOTS][];
        final long[] ttftSlots = new long[Ring.SLOTS];

        VersionSeries() {
            java.util.Arrays.fill(ttftSlots, -1);
        }

        void ttft(long slot, Map<Integer, Long> counts) {
            int cell = (int) Math.floorMod(slot, (long) Ring.SLOTS);
            if (ttftSlots[cell] != slot || ttft[cell] == null) {
                ttftSlots[cell] = slot;
                ttft[cell] = new long[LatencyBuckets.COUNT];
            }
            counts.forEach((bucket, count) -> {
                if (bucket >= 0 && bucket < LatencyBuckets.COUNT) {
                    ttft[cell][bucket] += count;
                }
            });
        }

        /** The {@code q} quantile of the time to first token over the recent slots, in ms; NaN without samples. */
        double ttftMillis(long last, double q) {
            long[] merged = new long[LatencyBuckets.COUNT];
            long total = 0;
            for (long slot = last - RECENT_SLOTS + 1; slot <= last; slot++) {
                int cell = (int) Math.floorMod(slot, (long) Ring.SLOTS);
                if (ttftSlots[cell] == slot && ttft[cell] != null) {
                    for (int i = 0; i < merged.length; i++) {
                        merged[i] += ttft[cell][i];
                        total += ttft[cell][i];
                    }
                }
            }
            if (total == 0) {
                return Double.NaN;
            }
            long rank = (long) Math.ceil(q * total);
            long seen = 0;
            for (int i = 0; i < merged.length; i++) {
                seen += merged[i];
                if (seen >= rank) {
                    return LatencyBuckets.upperMicros(i) / 1_000;
                }
            }
            return LatencyBuckets.upperMicros(merged.length - 1) / 1_000;
        }
    }

    static final class TenantSeries {
        final Map<String, Ring> outcomes = new TreeMap<>();
        final Ring inputTokens = new Ring();
        final Ring outputTokens = new Ring();
        final java.util.SortedSet<String> models = new java.util.TreeSet<>();
    }

    public TrafficBoard(Clock clock) {
        this.clock = requireNonNull(clock, "clock");
    }

    /** Takes in a report the rollouts counted (never a duplicate). */
    public synchronized void record(VersionStatsReport report) {
        long now = clock.millis();
        long slot = slot(now);
        String scope = report.getNamespace();
        for (VersionSample sample : report.getVersionsList()) {
            VersionSeries series = versions.computeIfAbsent(new VersionKey(scope, sample.getModel(), sample.getVersion()),
                    k -> new VersionSeries());
            series.requests.add(slot, sample.getRequests());
            series.errors.add(slot, sample.getErrors());
            series.overloads.add(slot, sample.getOverloads());
            series.outputTokens.add(slot, sample.getOutputTokens());
            series.ttft(slot, sample.getTtft().getCountsMap());
        }
        for (TenantSample sample : report.getTenantsList()) {
            TenantSeries series = tenants.computeIfAbsent(new TenantKey(scope, sample.getTenant()), k -> new TenantSeries());
            sample.getOutcomesMap().forEach((outcome, count) -> series.outcomes.computeIfAbsent(outcome, o -> new Ring())
                    .add(slot, count));
            series.inputTokens.add(slot, sample.getInputTokens());
            series.outputTokens.add(slot, sample.getOutputTokens());
            if (!sample.getModel().isEmpty()) {
                series.models.add(sample.getModel());
            }
        }
        for (BudgetSample sample : report.getBudgetsList()) {
            budgets.computeIfAbsent(new TenantKey(scope, sample.getTenant()), k -> new TreeMap<>())
                    .computeIfAbsent(sample.getKind() + " " + sample.getName() + " " + sample.getPeriod(), k -> new TreeMap<>())
                    .put(report.getReplica(), new BudgetSeen(sample, now));
        }
        for (EndpointSample sample : report.getEndpointsList()) {
            EndpointKey key = new EndpointKey(scope, sample.getPool(), sample.getEndpoint());
            endpoints.computeIfAbsent(key, k -> new TreeMap<>()).put(report.getReplica(), new Seen(sample, now));
            picks.computeIfAbsent(key, k -> new Ring()).add(slot, sample.getPicks());
        }
    }

    /** Takes in the routes' weights of policies that were applied. */
    public synchronized void configure(PolicySet policies) {
        Map<VersionKey, Integer> next = new TreeMap<>();
        for (String namespace : policies.namespaces()) {
            for (ModelRoute route : policies.scope(namespace).routes()) {
                for (ModelVersion version : route.versions()) {
                    next.put(new VersionKey(namespace, route.model(), version.name()), version.weight());
                }
            }
        }
        weights = next;
    }

    static long slot(long millis) {
        return Math.floorDiv(millis, SLOT_SECONDS * 1_000L);
    }

    /** What the page shows, as of now. */
    public synchronized DashboardView view(Map<String, Integer> rolloutWeights, Map<String, String> rolloutStates) {
        long now = clock.millis();
        long last = slot(now);
        double recentSeconds = RECENT_SLOTS * SLOT_SECONDS;
        List<DashboardView.VersionRow> versionRows = new ArrayList<>();
        java.util.Set<VersionKey> keys = new java.util.TreeSet<>(weights.keySet());
        keys.addAll(versions.keySet());
        for (VersionKey key : keys) {
            VersionSeries series = versions.getOrDefault(key, new VersionSeries());
            String rolloutKey = (key.scope().isEmpty() ? "" : key.scope() + "/") + key.model();
            Integer weight = rolloutWeights.containsKey(rolloutKey + "|" + key.version())
                    ? rolloutWeights.get(rolloutKey + "|" + key.version()) : weights.get(key);
            versionRows.add(new DashboardView.VersionRow(key.scope(), key.model(), key.version(), weight,
                    rolloutStates.get(rolloutKey), series.requests.sum(last, Ring.SLOTS),
                    series.requests.sum(last, RECENT_SLOTS) / recentSeconds,
                    series.outputTokens.sum(last, RECENT_SLOTS) / recentSeconds,
                    series.ttftMillis(last, 0.5), series.ttftMillis(last, 0.99), series.errors.sum(last, Ring.SLOTS),
                    series.overloads.sum(last, Ring.SLOTS), points(series.requests, last)));
        }
        List<DashboardView.TenantRow> tenantRows = new ArrayList<>();
        tenants.forEach((key, series) -> {
            Map<String, Long> outcomes = new TreeMap<>();
            long requests = 0;
            long recent = 0;
            for (Map.Entry<String, Ring> outcome : series.outcomes.entrySet()) {
                long count = outcome.getValue().sum(last, Ring.SLOTS);
                outcomes.put(outcome.getKey(), count);
                requests += count;
                recent += outcome.getValue().sum(last, RECENT_SLOTS);
            }
            tenantRows.add(new DashboardView.TenantRow(key.scope(), key.tenant(), String.join(", ", series.models), requests,
                    recent / recentSeconds, outcomes, series.inputTokens.sum(last, Ring.SLOTS),
                    series.outputTokens.sum(last, Ring.SLOTS), budgetRows(key, now)));
        });
        List<DashboardView.EndpointRow> endpointRows = new ArrayList<>();
        endpoints.forEach((key, byReplica) -> {
            long inFlight = 0;
            double waiting = Double.NaN;
            double running = Double.NaN;
            double kv = Double.NaN;
            boolean healthy = true;
            int replicas = 0;
            long newest = Long.MIN_VALUE;
            for (Seen seen : byReplica.values()) {
                if (now - seen.atMillis() > REPORT_STALE_SECONDS * 1_000L) {
                    continue;
                }
                replicas++;
                EndpointSample sample = seen.sample();
                inFlight += sample.getInFlight();
                healthy &= sample.getHealthy();
                if (sample.getFresh() && seen.atMillis() >= newest) {
                    newest = seen.atMillis();
                    waiting = sample.getWaiting();
                    running = sample.getRunning();
                    kv = sample.getKvCacheUsage();
                }
            }
            if (replicas > 0) {
                Ring picked = picks.get(key);
                endpointRows.add(new DashboardView.EndpointRow(key.scope(), key.pool(), key.endpoint(), waiting, running, kv,
                        inFlight, picked.sum(last, Ring.SLOTS), picked.sum(last, RECENT_SLOTS) / recentSeconds, healthy,
                        replicas));
            }
        });
        return new DashboardView(java.time.Instant.ofEpochMilli(now).toString(), SLOT_SECONDS, versionRows, tenantRows, endpointRows);
    }

    /**
     * A tenant's budgets as the replicas that reported them lately see them: the most any of them has
     * used (a shared budget reads the same everywhere; a replica's own token window, its own count).
     */
    private List<DashboardView.BudgetRow> budgetRows(TenantKey key, long now) {
        List<DashboardView.BudgetRow> rows = new ArrayList<>();
        budgets.getOrDefault(key, Map.of()).forEach((name, byReplica) -> {
            BudgetSample most = null;
            for (BudgetSeen seen : byReplica.values()) {
                if (now - seen.atMillis() <= REPORT_STALE_SECONDS * 1_000L
                        && (most == null || seen.sample().getUsed() > most.getUsed())) {
                    most = seen.sample();
                }
            }
            if (most != null) {
                rows.add(new DashboardView.BudgetRow(most.getKind(), most.getName(), most.getPeriod(), most.getUsed(),
                        most.getAmount(), java.time.Instant.ofEpochMilli(most.getResetsAtMs()).toString()));
            }
        });
        return rows;
    }

    /** Requests per second in each slot of the window, oldest first; the current (partial) slot left out. */
    private static double[] points(Ring ring, long last) {
        double[] points = new double[Ring.SLOTS - 1];
        for (int i = 0; i < points.length; i++) {
            points[i] = ring.get(last - points.length + i) / (double) SLOT_SECONDS;
        }
        return points;
    }
}
