package io.aimesh.bench.rollout;

import io.aimesh.filter.api.Histogram;
import io.aimesh.filter.api.LatencyBuckets;
import io.aimesh.filter.api.VersionSample;
import io.aimesh.filter.api.VersionStatsReport;
import io.aimesh.policy.LoadResult;
import io.aimesh.policy.PolicyLoader;
import io.aimesh.xds.rollout.RolloutController;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How soon a rollout catches a canary that turns bad, and how many bad answers it serves until
 * then, against traffic rate: aimesh's judging (the control plane's own {@link RolloutController},
 * driven on simulated time) beside the fixed-interval analysis Flagger and Argo Rollouts run by
 * default ({@link FixedIntervalAnalysis}), all on the same simulated request streams. Not a timed
 * test: a simulation that runs in seconds. Writes the results section of
 * {@code docs/benchmarks/rollout-detection.md}; {@code benchmarks/scripts/rollout-detection.sh}.
 *
 * <p>Arguments: {@code --rates 5,10,20,50,100} (requests a second to the model), {@code --runs 20}
 * (streams per point, each its own seed and check phases), {@code --report FILE}.
 */
public final class RolloutDetectionBenchmark {
    static final String BEGIN = "<!-- rollout-detection:results -->";
    static final String END = "<!-- /rollout-detection:results -->";
    /** The canary's share while held at its step. */
    static final double WEIGHT = 0.10;
    /** Healthy traffic before the fault: the baseline numbers and the analyses' history. */
    static final double TURNS_BAD_AT = 60;
    /** How long the fixed-interval analyses are followed after the fault. */
    static final double FOLLOW = 1_800;
    /** From the controller's decision to the filters routing by it: the push, measured ~20-50 ms in RolloutIT. */
    static final double PUSH_SECONDS = 0.05;
    static final List<RequestStream.Fault> FAULTS = List.of(
            new RequestStream.Fault("fail-rate 1.0", 1.0, 0),
            new RequestStream.Fault("fail-rate 0.5", 0.5, 0),
            new RequestStream.Fault("fail-rate 0.1", 0.1, 0),
            new RequestStream.Fault("+400 ms", 0, 400),
            new RequestStream.Fault("+2 s", 0, 2_000));
    /**
     * Whether the filters' late checks are modelled ({@code -Daimesh.bench.lateChecks=false} for the
     * judging as it was without them, for comparison).
     */
    static final boolean LATE_CHECKS = !"false".equals(System.getProperty("aimesh.bench.lateChecks"));
    static final String POLICY = """
            apiVersion: aimesh.io/v1alpha1
            kind: Gateway
            metadata: {name: g}
            spec: {filter: {address: "127.0.0.1:9001"}}
            ---
            apiVersion: aimesh.io/v1alpha1
            kind: InferencePool
            metadata: {name: p1}
            spec: {endpoints: ["10.0.0.1:8000"]}
            ---
            apiVersion: aimesh.io/v1alpha1
            kind: InferencePool
            metadata: {name: p2}
            spec: {endpoints: ["10.0.0.2:8000"]}
            ---
            apiVersion: aimesh.io/v1alpha1
            kind: ModelRoute
            metadata: {name: r}
            spec:
              model: m
              versions: [{name: v1, pool: p1, weight: 100}, {name: v2, pool: p2, weight: 0}]
              rollout:
                baseline: v1
                canary: v2
                steps: [{weight: 10, minDuration: 1h}]
                analysis: {rules: {errorRate: "+1%", ttftP99: 1.5x}}
            """;

    /** One analysis' outcome on one stream: seconds from the fault to the rollback, bad answers until then. */
    record Outcome(double seconds, long bad, long windowRequests) {
    }

    private RolloutDetectionBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        List<Double> rates = List.of(5.0, 10.0, 20.0, 50.0, 100.0);
        int runs = 20;
        Path report = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rates" -> rates = java.util.Arrays.stream(args[++i].split(",")).map(Double::parseDouble).toList();
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--report" -> report = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (expected: --rates R,R,... --runs N --report FILE)");
            }
        }
        String table = table(rates, runs);
        System.out.print(table);
        if (report != null) {
            String doc = Files.readString(report);
            int begin = doc.indexOf(BEGIN);
            int end = doc.indexOf(END);
            Files.writeString(report, doc.substring(0, begin) + table + doc.substring(end + END.length()));
        }
    }

    static String table(List<Double> rates, int runs) throws IOException {
        List<FixedIntervalAnalysis> peers = FixedIntervalDefaults.ALL;
        StringBuilder md = new StringBuilder(BEGIN).append("\n## Results\n\n");
        md.append(String.format(Locale.ROOT, "Canary at %.0f %% of the model's traffic; %d streams per row (mean, and worst "
                + "in brackets); bad: the canary's bad answers from the fault to the rollback; %% of 15 s: those over all "
                + "requests of the 15 s after the fault. `never`: not rolled back within %.0f s.%n%n", WEIGHT * 100, runs, FOLLOW));
        md.append("| fault | req/s | aimesh s | aimesh bad | aimesh % of 15 s |");
        peers.forEach(p -> md.append(' ').append(p.name()).append(" s | ").append(p.name()).append(" bad |"));
        md.append("\n|---|---:|---:|---:|---:|");
        peers.forEach(p -> md.append("---:|---:|"));
        md.append('\n');
        for (RequestStream.Fault fault : FAULTS) {
            for (double rate : rates) {
                List<Outcome> mine = new ArrayList<>();
                Map<String, List<Outcome>> theirs = new HashMap<>();
                for (int run = 0; run < runs; run++) {
                    long seed = 1_000L * run + (long) rate;
                    List<RequestStream.Request> stream = RequestStream.generate(seed, rate, WEIGHT, TURNS_BAD_AT + FOLLOW, fault,
                            TURNS_BAD_AT, Double.POSITIVE_INFINITY);
                    SplittableRandom phases = new SplittableRandom(seed ^ 0x5DEECE66DL);
                    mine.add(outcome(stream, fault, aimesh(stream, phases.nextDouble() * 0.25, LATE_CHECKS) + PUSH_SECONDS));
                    for (FixedIntervalAnalysis peer : peers) {
                        double at = peer.rollbackTime(stream, phases.nextDouble() * peer.intervalSeconds(), TURNS_BAD_AT + FOLLOW);
                        theirs.computeIfAbsent(peer.name(), k -> new ArrayList<>()).add(outcome(stream, fault, at));
                    }
                }
                md.append(String.format(Locale.ROOT, "| %s | %.0f | %s | %s | %s |", fault.name(), rate, seconds(mine), bad(mine),
                        share(mine)));
                for (FixedIntervalAnalysis peer : peers) {
                    md.append(' ').append(seconds(theirs.get(peer.name()))).append(" | ").append(bad(theirs.get(peer.name())))
                            .append(" |");
                }
                md.append('\n');
            }
        }
        return md.append(END).toString();
    }

    /**
     * When aimesh's controller rolls back on {@code stream}, modelled as the filters report: a
     * request's numbers reach the controller in the next periodic report (every 250 ms), but an error
     * at once, and so does a canary request still without a first byte past the late threshold of the
     * controller's last acknowledgement (read as the request arrives: the filter arms its check then).
     * The controller judges a report with such news on arrival, and everything at its own slot ends,
     * {@code phase} after the reports.
     */
    static double aimesh(List<RequestStream.Request> stream, double phase, boolean lateChecks) throws IOException {
        AtomicLong nanos = new AtomicLong();
        Clock clock = new Clock() {
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
                return Instant.EPOCH.plusNanos(nanos.get());
            }
        };
        RolloutController controller = RolloutController.driven(nanos::get, clock);
        try {
            LoadResult policies = PolicyLoader.load(Map.of("rollout.yaml", POLICY));
            controller.configure(policies.policies());
            double slot = RolloutController.SLOT_MILLIS / 1000.0;
            List<RequestStream.Request> byEnd = new ArrayList<>(stream);
            byEnd.sort(java.util.Comparator.comparingDouble(RequestStream.Request::end));
            Report report = new Report(controller, nanos);
            // Late checks armed as requests arrive: {when, threshold in microseconds}, by request.
            Map<RequestStream.Request, double[]> lateAt = new java.util.IdentityHashMap<>();
            java.util.PriorityQueue<RequestStream.Request> late = new java.util.PriorityQueue<>(
                    java.util.Comparator.comparingDouble(r -> lateAt.get(r)[0]));
            int arrived = 0;
            int next = 0;
            double horizon = TURNS_BAD_AT + FOLLOW;
            for (double tick = phase; tick < horizon; tick += slot) {
                double lastReport = tick - phase;
                long threshold = !lateChecks || controller.ack("").getLateCount() == 0 ? 0
                        : controller.ack("").getLate(0).getTtftMicros();
                while (arrived < stream.size() && stream.get(arrived).arrival() <= tick) {
                    RequestStream.Request request = stream.get(arrived++);
                    if (request.canary() && threshold > 0 && request.latency() * 1e6 > threshold + 1) {
                        lateAt.put(request, new double[] {request.arrival() + (threshold + 1) / 1e6, threshold + 1});
                        late.add(request);
                    }
                }
                while (true) {
                    double lateTime = late.isEmpty() ? Double.POSITIVE_INFINITY : lateAt.get(late.peek())[0];
                    double endTime = next < byEnd.size() ? byEnd.get(next).end() : Double.POSITIVE_INFINITY;
                    if (Math.min(lateTime, endTime) > tick) {
                        break;
                    }
                    if (lateTime <= endTime) {
                        RequestStream.Request request = late.poll();
                        report.late(request, (long) lateAt.get(request)[1]);
                        report.send(lateTime);
                        if (rolledBack(controller)) {
                            return lateTime;
                        }
                        continue;
                    }
                    RequestStream.Request request = byEnd.get(next);
                    if (request.end() > lastReport && !request.failed()) {
                        break; // in the next periodic report
                    }
                    report.add(request, lateAt.containsKey(request));
                    next++;
                    if (request.failed()) {
                        report.send(request.end());
                        if (rolledBack(controller)) {
                            return request.end();
                        }
                    }
                }
                report.send(lastReport);
                nanos.set((long) (tick * 1e9));
                controller.evaluate();
                if (rolledBack(controller)) {
                    return tick;
                }
            }
            return Double.POSITIVE_INFINITY;
        } finally {
            controller.close();
        }
    }

    private static boolean rolledBack(RolloutController controller) {
        return controller.status("m").state().equals("rolled-back");
    }

    /** What one filter replica has measured since its last report. */
    private static final class Report {
        private final RolloutController controller;
        private final AtomicLong nanos;
        private final VersionSample.Builder base = VersionSample.newBuilder().setModel("m").setVersion("v1");
        private final VersionSample.Builder canary = VersionSample.newBuilder().setModel("m").setVersion("v2");
        private final Map<Integer, Long> baseTtft = new HashMap<>();
        private final Map<Integer, Long> canaryTtft = new HashMap<>();
        private long sequence;

        Report(RolloutController controller, AtomicLong nanos) {
            this.controller = controller;
            this.nanos = nanos;
        }

        /** A request ended; {@code counted}: its time to first token was reported as late already. */
        void add(RequestStream.Request request, boolean counted) {
            VersionSample.Builder sample = request.canary() ? canary : base;
            sample.setRequests(sample.getRequests() + 1);
            if (request.failed()) {
                sample.setErrors(sample.getErrors() + 1);
            } else if (!counted) {
                (request.canary() ? canaryTtft : baseTtft).merge(LatencyBuckets.index((long) (request.latency() * 1e6)), 1L,
                        Long::sum);
            }
        }

        /** A canary request passed the late threshold without a first byte: counted at {@code micros}. */
        void late(RequestStream.Request request, long micros) {
            canary.setLate(canary.getLate() + 1);
            canaryTtft.merge(LatencyBuckets.index(micros), 1L, Long::sum);
        }

        void send(double at) {
            nanos.set((long) (at * 1e9));
            controller.reportAndWait(VersionStatsReport.newBuilder().setReplica("sim").setSequence(++sequence)
                    .addVersions(base.setTtft(Histogram.newBuilder().putAllCounts(baseTtft)))
                    .addVersions(canary.setTtft(Histogram.newBuilder().putAllCounts(canaryTtft))).build());
            base.clear().setModel("m").setVersion("v1");
            canary.clear().setModel("m").setVersion("v2");
            baseTtft.clear();
            canaryTtft.clear();
        }
    }

    static Outcome outcome(List<RequestStream.Request> stream, RequestStream.Fault fault, double rollbackAt) {
        long bad = stream.stream().filter(r -> r.bad(fault, TURNS_BAD_AT) && r.arrival() < rollbackAt).count();
        long window = stream.stream().filter(r -> r.arrival() >= TURNS_BAD_AT && r.arrival() < TURNS_BAD_AT + 15).count();
        return new Outcome(rollbackAt - TURNS_BAD_AT, bad, window);
    }

    private static String seconds(List<Outcome> outcomes) {
        if (outcomes.stream().anyMatch(o -> Double.isInfinite(o.seconds()))) {
            long never = outcomes.stream().filter(o -> Double.isInfinite(o.seconds())).count();
            return "never (" + never + "/" + outcomes.size() + ")";
        }
        return String.format(Locale.ROOT, "%.1f (%.1f)", outcomes.stream().mapToDouble(Outcome::seconds).average().orElse(0),
                outcomes.stream().mapToDouble(Outcome::seconds).max().orElse(0));
    }

    private static String bad(List<Outcome> outcomes) {
        return String.format(Locale.ROOT, "%.1f (%d)", outcomes.stream().mapToLong(Outcome::bad).average().orElse(0),
                outcomes.stream().mapToLong(Outcome::bad).max().orElse(0));
    }

    private static String share(List<Outcome> outcomes) {
        return String.format(Locale.ROOT, "%.2f %% (%.2f %%)",
                outcomes.stream().mapToDouble(o -> 100.0 * Math.min(o.bad(), o.windowRequests()) / o.windowRequests()).average()
                        .orElse(0),
                outcomes.stream().mapToDouble(o -> 100.0 * Math.min(o.bad(), o.windowRequests()) / o.windowRequests()).max()
                        .orElse(0));
    }
}
