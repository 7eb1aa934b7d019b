package io.aimesh.xds.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aimesh.filter.api.Histogram;
import io.aimesh.filter.api.LatencyBuckets;
import io.aimesh.filter.api.LateThreshold;
import io.aimesh.filter.api.VersionSample;
import io.aimesh.filter.api.VersionStatsReport;
import io.aimesh.policy.LoadResult;
import io.aimesh.policy.ModelVersion;
import io.aimesh.policy.PolicyLoader;
import io.aimesh.policy.PolicySet;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RolloutControllerTest {
    private static final String POLICIES = """
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
              versions: [{name: v1, pool: p1, weight: 100}, {name: v2, pool: p2, weight: 0}, {name: v3, pool: p2, weight: 5}]
              rollout:
                baseline: v1
                canary: %s
                steps: [{weight: 10, minDuration: 2s, minRequests: 20}, {weight: 50, minDuration: 2s, minRequests: 20}]
                analysis: {rules: {errorRate: "+1%%", ttftP99: 1.5x}}
            """;

    @TempDir
    Path directory;
    private final AtomicLong nanos = new AtomicLong();
    private final AtomicInteger recompiles = new AtomicInteger();
    private PrometheusRegistry registry;
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochSecond(1_800_000_000L).plusNanos(nanos.get());
        }
    };
    private RolloutController controller;
    private long sequence;

    @AfterEach
    void close() {
        if (controller != null) {
            controller.close();
        }
    }

    @Test
    void aHealthyCanary_isPromotedThroughEveryStep() throws IOException {
        controller = controller();
        PolicySet policies = policies("v2");
        controller.configure(policies);
        assertThat(weights(policies)).containsExactly(90, 10, 0);

        runHealthy(3); // step 1 needs 2 s and 20 canary requests
        assertThat(controller.status("m").step()).isEqualTo(2);
        assertThat(weights(policies)).containsExactly(50, 50, 0);

        runHealthy(3);
        RolloutStatus status = controller.status("m");
        assertThat(status.state()).isEqualTo("promoted");
        assertThat(status.canaryWeight()).isEqualTo(100);
        assertThat(weights(policies)).containsExactly(0, 100, 0);
        assertThat(recompiles.get()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void aCanaryThatTurnsFailing_isRolledBackAtOnce_withTheRuleAndNumbers() throws IOException {
        controller = controller();
        PolicySet policies = policies("v2");
        controller.configure(policies);
        runHealthy(1);

        report(100, 0, 3, 3, 100_000); // three failures in a row
        controller.evaluate();

        RolloutStatus status = controller.status("m");
        assertThat(status.state()).isEqualTo("rolled-back");
        assertThat(status.canaryWeight()).isZero();
        assertThat(status.reason()).startsWith("errorRate: 3 of the canary's last");
        assertThat(weights(policies)).containsExactly(100, 0, 0);
        assertThat(gauge("aimesh_rollout_state", "rolled-back")).isEqualTo(1);
    }

    @Test
    void aLateCanaryRequest_isJudgedOnArrival_againstTheThresholdTheAckCarries() throws IOException {
        controller = controller();
        controller.configure(policies("v2"));
        assertThat(controller.ack("").getLateList()).as("no baseline p99 yet").isEmpty();

        report(100, 0, 2, 0, 100_000); // a p99 needs 100 baseline samples
        controller.evaluate();
        LateThreshold threshold = controller.ack("").getLate(0);
        assertThat(threshold.getModel()).isEqualTo("m");
        assertThat(threshold.getVersion()).isEqualTo("v2");
        // 1.5 x the baseline's p99 (the upper bound of 100 ms's bucket), up to its own bucket's bound.
        double limit = 1.5 * LatencyBuckets.upperMicros(LatencyBuckets.index(100_000));
        assertThat((double) threshold.getTtftMicros()).isBetween(limit, limit * 1.05);

        long late = threshold.getTtftMicros() + 1;
        controller.reportAndWait(VersionStatsReport.newBuilder().setReplica("r1").setSequence(++sequence)
                .addVersions(VersionSample.newBuilder().setModel("m").setVersion("v2").setLate(2)
                        .setTtft(Histogram.newBuilder().putCounts(LatencyBuckets.index(late), 2)))
                .build());

        RolloutStatus status = controller.status("m");
        assertThat(status.state()).as("judged as the report arrived, before the slot's end").isEqualTo("rolled-back");
        assertThat(status.reason()).startsWith("ttftP99: 2 of the canary's last 2 requests took over");
        controller.evaluate();
        assertThat(controller.ack("").getLateList()).as("a rollout that ended has no thresholds").isEmpty();
    }

    @Test
    void aRestartedController_goesOnFromTheSavedStep_andServesTheSavedWeightsBeforeThePoliciesLoad() throws IOException {
        controller = controller();
        PolicySet policies = policies("v2");
        controller.configure(policies);
        runHealthy(3);
        assertThat(controller.status("m").step()).isEqualTo(2);
        controller.close();

        controller = controller();
        assertThat(weights(policies)).containsExactly(50, 50, 0); // before configure
        controller.configure(policies);
        RolloutStatus status = controller.status("m");
        assertThat(status.step()).isEqualTo(2);
        assertThat(status.state()).isEqualTo("progressing");

        controller.act("m", RolloutController.Action.ABORT);
        controller.close();
        controller = controller();
        assertThat(weights(policies)).containsExactly(100, 0, 0);
        controller.configure(policies);
        assertThat(controller.status("m").state()).isEqualTo("aborted");
    }

    @Test
    void anUnreadableStateFile_stopsTheStart_ratherThanStartingOver() throws IOException {
        Files.writeString(directory.resolve("rollouts.json"), "{not json");

        assertThatThrownBy(this::controller).isInstanceOf(IOException.class).hasMessageContaining("not a rollout state file");
    }

    @Test
    void operatorCommands_moveTheState_andRefuseWhatDoesNotApply() throws IOException {
        controller = controller();
        PolicySet policies = policies("v2");
        controller.configure(policies);

        assertThat(controller.act("m", RolloutController.Action.PAUSE).state()).isEqualTo("paused");
        runHealthy(3);
        assertThat(controller.status("m").step()).isEqualTo(1); // paused: no step passes
        assertThatThrownBy(() -> controller.act("m", RolloutController.Action.PAUSE))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("it is paused");
        assertThat(controller.act("m", RolloutController.Action.RESUME).state()).isEqualTo("progressing");
        assertThat(controller.act("m", RolloutController.Action.PROMOTE).canaryWeight()).isEqualTo(100);
        assertThatThrownBy(() -> controller.act("m", RolloutController.Action.PROMOTE)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> controller.act("nope", RolloutController.Action.ABORT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rollouts: m");
    }

    @Test
    void anotherCanaryInThePolicy_startsANewRolloutFromStepOne_andARetriedReportCountsOnce() throws IOException {
        controller = controller();
        controller.configure(policies("v2"));
        runHealthy(3);
        assertThat(controller.status("m").step()).isEqualTo(2);

        PolicySet next = policies("v3");
        controller.configure(next);
        assertThat(controller.status("m").canary()).isEqualTo("v3");
        assertThat(controller.status("m").step()).isEqualTo(1);
        assertThat(weights(next)).containsExactly(90, 0, 10);

        VersionStatsReport report = sample(0, 0, 5, 0, 100_000, "v3");
        controller.reportAndWait(report);
        controller.reportAndWait(report);
        controller.evaluate();
        assertThat(controller.status("m").stepCanaryRequests()).isEqualTo(5);
    }

    private RolloutController controller() throws IOException {
        registry = new PrometheusRegistry(); // a restarted control plane has a registry of its own
        return new RolloutController(new RolloutStore(directory.resolve("rollouts.json")), registry, recompiles::incrementAndGet,
                nanos::get, clock);
    }

    private static PolicySet policies(String canary) {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", POLICIES.formatted(canary)));
        assertThat(result.errors()).isEmpty();
        return result.policies();
    }

    private int[] weights(PolicySet policies) {
        return controller.apply("", policies).routes().get(0).versions().stream().mapToInt(ModelVersion::weight).toArray();
    }

    /** {@code seconds} of healthy traffic: 10 baseline and 2 canary requests per slot, 100 ms each. */
    private void runHealthy(int seconds) {
        for (int i = 0; i < seconds * 4; i++) {
            report(10, 0, 2, 0, 100_000);
            controller.evaluate();
        }
    }

    private void report(int base, int baseErrors, int canary, int canaryErrors, long canaryTtftMicros) {
        controller.reportAndWait(sample(base, baseErrors, canary, canaryErrors, canaryTtftMicros, controller.status("m").canary()));
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(250));
    }

    private VersionStatsReport sample(int base, int baseErrors, int canary, int canaryErrors, long ttftMicros, String version) {
        return VersionStatsReport.newBuilder().setReplica("r1").setSequence(++sequence)
                .addVersions(VersionSample.newBuilder().setModel("m").setVersion("v1").setRequests(base).setErrors(baseErrors)
                        .setTtft(Histogram.newBuilder().putCounts(LatencyBuckets.index(100_000), base)))
                .addVersions(VersionSample.newBuilder().setModel("m").setVersion(version).setRequests(canary)
                        .setErrors(canaryErrors).setTtft(Histogram.newBuilder().putCounts(LatencyBuckets.index(ttftMicros), canary)))
                .build();
    }

    private double gauge(String name, String state) {
        return registry.scrape().stream().filter(m -> m.getMetadata().getPrometheusName().equals(name))
                .flatMap(m -> m.getDataPoints().stream())
                .filter(p -> state.equals(p.getLabels().get("state")))
                .mapToDouble(p -> ((io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot) p).getValue())
                .findFirst().orElse(-1);
    }
}
