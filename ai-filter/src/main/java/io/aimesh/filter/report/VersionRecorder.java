package io.aimesh.filter.report;

import io.aimesh.filter.api.Histogram;
import io.aimesh.filter.api.LatencyBuckets;
import io.aimesh.filter.api.LateThreshold;
import io.aimesh.filter.api.VersionSample;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What this replica measured of each model version it routed requests to, since the last
 * {@link #drain}: the numbers a rollout judges (see {@code VersionStatsReport}). Thread-safe and
 * lock-free: requests record on their own threads; each count is taken out with
 * {@code getAndSet(0)}, so a drain racing a record loses nothing and counts nothing twice.
 */
public final class VersionRecorder {
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, Cell>> models = new ConcurrentHashMap<>();
    private volatile Runnable onBadNews = () -> { };
    /** The control plane's late thresholds in microseconds, by model then version; replaced whole. */
    private volatile Map<String, Map<String, Long>> lateMicros = Map.of();

    /** Told of each error, overload or late request as it is recorded (the reporter then reports at once); any thread. */
    public void onBadNews(Runnable listener) {
        this.onBadNews = java.util.Objects.requireNonNull(listener, "listener");
    }

    /**
     * A request sent to {@code version} ended.
     *
     * @param status the response status; 0 for a reset (the stream ended before the response did)
     * @param ttftNanos time from the request's arrival to the first response byte, or -1 when none came
     * @param tpotNanos time per output token after the first (streams of two or more tokens), or -1
     * @param outputTokens the answer's output tokens when known, else -1
     */
    public void ended(String model, String version, int status, long ttftNanos, long tpotNanos, long outputTokens) {
        Cell cell = cell(model, version);
        cell.requests.incrementAndGet();
        boolean bad = true;
        if (status == 0 || status >= 500) {
            cell.errors.incrementAndGet();
        } else if (status == 429) {
            cell.overloads.incrementAndGet();
        } else {
            bad = false;
        }
        if (ttftNanos >= 0) {
            cell.ttft.incrementAndGet(LatencyBuckets.index(ttftNanos / 1_000));
        }
        if (tpotNanos >= 0) {
            cell.tpot.incrementAndGet(LatencyBuckets.index(tpotNanos / 1_000));
        }
        if (outputTokens >= 0 && status >= 200 && status < 300) {
            cell.outputTokens.addAndGet(outputTokens);
            cell.outputMeasured.incrementAndGet();
        }
        if (bad) {
            onBadNews.run();
        }
    }

    /**
     * Takes the late thresholds of the control plane's last acknowledgement; they replace the
     * earlier ones. Any thread.
     */
    public void lateThresholds(List<LateThreshold> thresholds) {
        Map<String, Map<String, Long>> byModel = new HashMap<>();
        for (LateThreshold threshold : thresholds) {
            if (threshold.getTtftMicros() > 0) {
                byModel.computeIfAbsent(threshold.getModel(), m -> new HashMap<>())
                        .put(threshold.getVersion(), threshold.getTtftMicros());
            }
        }
        byModel.replaceAll((model, versions) -> Map.copyOf(versions));
        lateMicros = Map.copyOf(byModel);
    }

    /** How long a request to {@code version} may go without a first byte before it is late, in microseconds; 0 for no limit. */
    public long lateAfterMicros(String model, String version) {
        Map<String, Long> versions = lateMicros.get(model);
        Long micros = versions == null ? null : versions.get(version);
        return micros == null ? 0 : micros;
    }

    /**
     * A request to {@code version} has had no first byte for {@code micros}, past its late
     * threshold: its time to first token is counted now, as {@code micros} (a lower bound), and
     * reported at once. The caller passes -1 as its time to first token when it ends.
     */
    public void late(String model, String version, long micros) {
        Cell cell = cell(model, version);
        cell.ttft.incrementAndGet(LatencyBuckets.index(micros));
        cell.late.incrementAndGet();
        onBadNews.run();
    }

    /** A request for {@code version} was refused by the filter because its pool was saturated. */
    public void shed(String model, String version) {
        cell(model, version).overloads.incrementAndGet();
        onBadNews.run();
    }

    /** Takes out everything recorded since the last drain; versions with nothing new are left out. */
    public List<VersionSample> drain() {
        List<VersionSample> samples = new ArrayList<>();
        models.forEach((model, versions) -> versions.forEach((version, cell) -> {
            VersionSample sample = cell.drain(model, version);
            if (sample != null) {
                samples.add(sample);
            }
        }));
        return samples;
    }

    private Cell cell(String model, String version) {
        return models.computeIfAbsent(model, m -> new ConcurrentHashMap<>()).computeIfAbsent(version, v -> new Cell());
    }

    /** One version's counts. Versions are few and live as long as their routes: cells are kept. */
    private static final class Cell {
        final AtomicLong requests = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final AtomicLong overloads = new AtomicLong();
        final AtomicLong outputTokens = new AtomicLong();
        final AtomicLong outputMeasured = new AtomicLong();
        final AtomicLong late = new AtomicLong();
        final AtomicLongArray ttft = new AtomicLongArray(LatencyBuckets.COUNT);
        final AtomicLongArray tpot = new AtomicLongArray(LatencyBuckets.COUNT);

        VersionSample drain(String model, String version) {
            VersionSample.Builder sample = VersionSample.newBuilder().setModel(model).setVersion(version)
                    .setRequests(requests.getAndSet(0))
                    .setErrors(errors.getAndSet(0))
                    .setOverloads(overloads.getAndSet(0))
                    .setOutputTokens(outputTokens.getAndSet(0))
                    .setOutputMeasured(outputMeasured.getAndSet(0))
                    .setLate(late.getAndSet(0))
                    .setTtft(drain(ttft))
                    .setTpot(drain(tpot));
            boolean empty = sample.getRequests() == 0 && sample.getOverloads() == 0 && sample.getTtft().getCountsCount() == 0;
            return empty ? null : sample.build();
        }

        private static Histogram drain(AtomicLongArray buckets) {
            Histogram.Builder histogram = Histogram.newBuilder();
            for (int i = 0; i < buckets.length(); i++) {
                if (buckets.get(i) != 0) {
                    histogram.putCounts(i, buckets.getAndSet(i, 0));
                }
            }
            return histogram.build();
        }
    }
}
