package io.aimesh.bench;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * The ADS fan-out benchmark: how long a policy edit takes to be acknowledged by every
 * connected Envoy, and how much control-plane heap each connected Envoy costs.
 *
 * <p>Starts the control plane in a JVM of its own ({@link ControlPlaneProcess}) on a
 * {@link PolicyFixture}, measures its live heap, connects N {@link SimulatedAdsClient}s,
 * waits until all have acknowledged the route table, measures the heap again, then makes
 * one policy edit at a time and waits until every client has acknowledged the new route
 * table (or fails after 30 s, naming how many had not), with a {@link #CHANGE_GAP} between
 * edits. Not JMH: one edit reaching a
 * thousand streams is a distributed event, not a method call.
 *
 * <p>Run from the repository root (the last command also rewrites its section of
 * {@code docs/benchmarks/ads-fanout.md}; add {@code --delta} for delta ADS):
 * <pre>
 * mvn -B -o -q -pl benchmarks -am install -DskipTests
 * java -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*' \
 *     io.aimesh.bench.AdsFanoutBenchmark --clients 1000 --changes 20 --report docs/benchmarks/ads-fanout.md
 * </pre>
 * A smoke run that takes seconds: {@code --clients 20 --changes 2} (also run by {@code AdsFanoutSmokeTest}).
 */
public final class AdsFanoutBenchmark {
    static final String COMMAND = "java -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*'"
            + " io.aimesh.bench.AdsFanoutBenchmark";
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(120);
    /**
     * Quiet time before each edit: the control plane is still reading the last ACKs of the
     * previous change when the clients have sent them. Real edits are minutes apart; each is
     * measured on an idle control plane.
     */
    static final Duration CHANGE_GAP = Duration.ofMillis(250);

    private AdsFanoutBenchmark() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        FanoutOptions options;
        try {
            options = FanoutOptions.parse(List.of(args));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        FanoutResult result = run(options, System.out::println);
        String section = FanoutReport.section(result, String.join(" ", COMMAND, String.join(" ", args)).trim());
        System.out.println();
        System.out.print(section);
        if (options.report() != null) {
            FanoutReport.write(options.report(), options.protocol(), section);
            System.out.println("wrote " + options.report());
        }
    }

    /**
     * Runs the benchmark and cleans up after itself: client streams closed, control plane
     * stopped, temporary files deleted.
     *
     * @param progress receives one line per step
     * @throws IllegalStateException when a change does not reach every client in time
     */
    static FanoutResult run(FanoutOptions options, Consumer<String> progress) throws IOException, InterruptedException {
        Instant date = Instant.now();
        try (PolicyFixture policies = PolicyFixture.create();
             ControlPlaneProcess controlPlane = ControlPlaneProcess.start(policies.directory())) {
            try {
                return measure(options, date, policies, controlPlane, progress);
            } catch (IOException | RuntimeException e) {
                progress.accept("control plane output, last lines:\n" + controlPlane.logTail(40));
                throw e;
            }
        }
    }

    private static FanoutResult measure(FanoutOptions options, Instant date, PolicyFixture policies,
                                        ControlPlaneProcess controlPlane, Consumer<String> progress)
            throws IOException, InterruptedException {
        long heapBefore = controlPlane.liveHeapKb();
        long rssBefore = controlPlane.rssKb();
        progress.accept(format("control plane pid %d: live heap %d KiB, RSS %d KiB before any client",
                controlPlane.pid(), heapBefore, rssBefore));
        long connectStart = System.nanoTime();
        try (AdsClientFleet fleet = AdsClientFleet.connect(controlPlane.xdsPort(), options.clients(), options.delta())) {
            fleet.awaitInitialRoutes(CONNECT_TIMEOUT);
            progress.accept(format("%d %s clients in sync after %.0f ms", options.clients(), options.protocol(),
                    (System.nanoTime() - connectStart) / 1e6));
            long heapAfter = controlPlane.liveHeapKb();
            long rssAfter = controlPlane.rssKb();
            progress.accept(format("live heap %d KiB, RSS %d KiB with %d clients", heapAfter, rssAfter, options.clients()));
            PushLatencyBuckets pushBefore = PushLatencyBuckets.parse(controlPlane.metrics(), "route");
            Histogram allAcked = new Histogram(3);
            Histogram eachClient = new Histogram(3);
            List<Long> changes = new ArrayList<>();
            for (int change = 0; change < options.changes(); change++) {
                Thread.sleep(CHANGE_GAP.toMillis());
                long latency = measureChange(fleet, policies, change, options, eachClient);
                allAcked.recordValue(latency);
                changes.add(latency);
                progress.accept(format("change %d/%d: all %d clients ACKed after %.1f ms", change + 1,
                        options.changes(), fleet.size(), latency / 1e6));
            }
            PushLatencyBuckets push = routePushLatency(controlPlane, pushBefore, (long) options.clients() * options.changes());
            return new FanoutResult(options, date, allAcked, changes, eachClient, heapBefore, heapAfter, rssBefore,
                    rssAfter, push);
        }
    }

    /** Makes edit {@code change} and returns the nanoseconds until the last client ACKed it. */
    private static long measureChange(AdsClientFleet fleet, PolicyFixture policies, int change, FanoutOptions options,
                                      Histogram eachClient) throws IOException, InterruptedException {
        CountDownLatch done = fleet.expectRouteChange();
        long edited = policies.shiftWeight(change);
        long[] acked;
        try {
            acked = fleet.awaitRouteChange(done, options.changeTimeout());
        } catch (IllegalStateException e) {
            throw new IllegalStateException("change " + (change + 1) + " of " + options.changes() + ": " + e.getMessage(), e);
        }
        long last = edited;
        for (long ackedNanos : acked) {
            eachClient.recordValue(ackedNanos - edited);
            last = Math.max(last, ackedNanos);
        }
        return last - edited;
    }

    /**
     * The control plane's route push latencies since {@code before}. A client counts its ACK
     * when it sends it, the control plane when it has read it, so wait (briefly) for the last ones.
     */
    private static PushLatencyBuckets routePushLatency(ControlPlaneProcess controlPlane, PushLatencyBuckets before,
                                                       long expected) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        PushLatencyBuckets push = PushLatencyBuckets.parse(controlPlane.metrics(), "route").minus(before);
        while (push.count() < expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
            push = PushLatencyBuckets.parse(controlPlane.metrics(), "route").minus(before);
        }
        return push;
    }

    private static String format(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
