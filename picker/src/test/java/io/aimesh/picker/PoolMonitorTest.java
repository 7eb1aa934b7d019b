package io.aimesh.picker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The monitor against real HTTP servers on loopback. */
class PoolMonitorTest {
    private static final Duration INTERVAL = Duration.ofMillis(20);
    /** Fast scrapes, ejection after 3 failures, metrics that do not go stale within a test. */
    private static final MonitorOptions OPTIONS = new MonitorOptions(INTERVAL, Duration.ofSeconds(2), 3,
            Duration.ofSeconds(30), "/metrics");

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "pool-monitor-test");
        thread.setDaemon(true);
        return thread;
    });
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void closeResources() throws Exception {
        // Monitors before the servers they watch.
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
        scheduler.shutdownNow();
    }

    @Test
    void monitor_readsEachEndpointsMetrics() throws IOException {
        MetricsServer a = server(metrics(1, 0.25));
        MetricsServer b = server(metrics(4, 0.5) + "vllm:num_requests_running 7\n");
        PoolMonitor monitor = monitor(OPTIONS, a.endpoint(), b.endpoint());

        awaiting().untilAsserted(() -> {
            assertThat(state(monitor, a.endpoint()).waiting()).isEqualTo(1);
            assertThat(state(monitor, b.endpoint()).waiting()).isEqualTo(4);
        });
        assertThat(state(monitor, a.endpoint()).kvCacheUsage()).isEqualTo(0.25);
        assertThat(state(monitor, b.endpoint()).running()).isEqualTo(7);
        assertThat(monitor.state().endpoints()).containsExactly(a.endpoint(), b.endpoint());
    }

    @Test
    void monitor_ejectsAnEndpointAfterConsecutiveFailures() throws IOException {
        MetricsServer a = server(metrics(0, 0.1));
        MetricsServer b = server(metrics(3, 0.7));
        PoolMonitor monitor = monitor(OPTIONS, a.endpoint(), b.endpoint());
        awaiting().until(() -> state(monitor, a.endpoint()).waiting() == 0);

        a.fail(500);

        awaiting().until(() -> !state(monitor, a.endpoint()).healthy());
        assertThat(state(monitor, a.endpoint()).consecutiveFailures()).isGreaterThanOrEqualTo(3);
        Picker picker = picker(ScorerWeights.DEFAULT);
        for (int i = 0; i < 20; i++) {
            assertThat(picker.pick(monitor.state(), RequestFeatures.of(""))).isEqualTo(Pick.of(b.endpoint()));
        }
    }

    @Test
    void monitor_readmitsAnEjectedEndpointAfterOneSuccess() throws IOException {
        MetricsServer a = server("");
        a.fail(503);
        PoolMonitor monitor = monitor(OPTIONS, a.endpoint());
        awaiting().until(() -> !state(monitor, a.endpoint()).healthy());
        assertThat(picker(ScorerWeights.DEFAULT).pick(monitor.state(), RequestFeatures.of(""))).isEqualTo(Pick.NONE_HEALTHY);

        a.serve(metrics(2, 0.3));

        awaiting().until(() -> state(monitor, a.endpoint()).healthy());
        assertThat(state(monitor, a.endpoint()).consecutiveFailures()).isZero();
        assertThat(picker(ScorerWeights.DEFAULT).pick(monitor.state(), RequestFeatures.of(""))).isEqualTo(Pick.of(a.endpoint()));
    }

    @Test
    void monitor_keepsAnEndpointUntilItsFailuresReachTheLimit() throws IOException {
        MetricsServer a = server("");
        a.fail(500);
        PoolMonitor monitor = monitor(new MonitorOptions(INTERVAL, Duration.ofSeconds(2), 1_000, Duration.ofSeconds(30),
                "/metrics"), a.endpoint());

        awaiting().until(() -> state(monitor, a.endpoint()).consecutiveFailures() >= 5);

        assertThat(state(monitor, a.endpoint()).healthy()).isTrue();
    }

    @Test
    void monitor_fallsBackToInFlightCountsWhenMetricsGoStale() throws IOException {
        MetricsServer a = server(metrics(0, 0));
        MetricsServer b = server(metrics(5, 0));
        PoolMonitor monitor = monitor(new MonitorOptions(INTERVAL, Duration.ofSeconds(2), 1_000, Duration.ofMillis(300),
                "/metrics"), a.endpoint(), b.endpoint());
        for (int i = 0; i < 4; i++) {
            monitor.begin(a.endpoint());
        }
        // Queue weight 2. Fresh: A 0 + 4/4 = 1 against B 2 * 5/5 = 2. Stale: A 4/4 = 1 against B 0.
        Picker picker = picker(new ScorerWeights(2, 1, 1, 2, 1));
        awaiting().until(() -> picker.pick(monitor.state(), RequestFeatures.of("")).equals(Pick.of(a.endpoint())));

        a.fail(500);
        b.fail(500);

        awaiting().until(() -> picker.pick(monitor.state(), RequestFeatures.of("")).equals(Pick.of(b.endpoint())));
        assertThat(state(monitor, b.endpoint()).healthy()).isTrue();
        assertThat(state(monitor, b.endpoint()).waiting()).as("kept, but stale").isEqualTo(5);
    }

    @Test
    void monitor_countsAHangingScrapeAsAFailureWithoutBlockingCallers() throws IOException {
        MetricsServer a = server(metrics(0, 0));
        a.hang();
        PoolMonitor monitor = monitor(new MonitorOptions(INTERVAL, Duration.ofMillis(100), 2, Duration.ofSeconds(30),
                "/metrics"), a.endpoint());
        Picker picker = picker(ScorerWeights.DEFAULT);

        assertTimeoutPreemptively(Duration.ofSeconds(1), () -> {
            InFlight request = monitor.begin(a.endpoint());
            assertThat(picker.pick(monitor.state(), RequestFeatures.of(""))).isEqualTo(Pick.of(a.endpoint()));
            request.finished();
        });
        awaiting().until(() -> !state(monitor, a.endpoint()).healthy());
    }

    @Test
    void monitor_readsTheMetricsOfModelSim() throws IOException {
        ModelSimServer sim = ModelSimServer.start(ModelSimConfig.builder().build());
        resources.add(sim);
        Endpoint endpoint = new Endpoint("127.0.0.1", sim.port());
        PoolMonitor monitor = monitor(OPTIONS, endpoint);

        awaiting().untilAsserted(() -> {
            EndpointState state = state(monitor, endpoint);
            assertThat(state.waiting()).isZero();
            assertThat(state.running()).isZero();
            assertThat(state.kvCacheUsage()).isZero();
        });
    }

    @Test
    void update_keepsTheStateAndLoadOfEndpointsThatStay() throws IOException {
        MetricsServer a = server(metrics(1, 0.1));
        MetricsServer b = server(metrics(2, 0.2));
        MetricsServer c = server(metrics(3, 0.3));
        PoolMonitor monitor = monitor(OPTIONS, a.endpoint(), b.endpoint());
        monitor.begin(a.endpoint());
        monitor.begin(a.endpoint());
        awaiting().until(() -> state(monitor, a.endpoint()).waiting() == 1);

        monitor.update(List.of(a.endpoint(), c.endpoint()));
        monitor.begin(b.endpoint());

        assertThat(monitor.state().endpoints()).containsExactly(a.endpoint(), c.endpoint());
        assertThat(monitor.state().member(a.endpoint()).load.inFlight()).isEqualTo(2);
        assertThat(state(monitor, a.endpoint()).waiting()).isEqualTo(1);
        assertThat(monitor.state().state(b.endpoint())).isEmpty();
        awaiting().until(() -> state(monitor, c.endpoint()).waiting() == 3);
    }

    @Test
    void inFlightHandle_endsOnTheMemberItStartedOn_evenAfterTheEndpointLeftAndCameBack() throws IOException {
        MetricsServer a = server(metrics(0, 0));
        PoolMonitor monitor = monitor(OPTIONS, a.endpoint());
        InFlight old = monitor.begin(a.endpoint());

        monitor.update(List.of());
        monitor.update(List.of(a.endpoint()));
        InFlight current = monitor.begin(a.endpoint());
        old.finished();
        old.finished();

        assertThat(monitor.state().member(a.endpoint()).load.inFlight()).as("the re-added member's own request").isEqualTo(1);
        current.finished();
        assertThat(monitor.state().member(a.endpoint()).load.inFlight()).isZero();
        InFlight outsider = monitor.begin(new Endpoint("127.0.0.1", 1));
        outsider.firstToken(1);
        outsider.finished();
    }

    @Test
    void hooks_countRequestsAndIgnoreEndpointsOutsideThePool() throws IOException {
        MetricsServer a = server(metrics(0, 0));
        PoolMonitor monitor = monitor(OPTIONS, a.endpoint());
        Endpoint outsider = new Endpoint("127.0.0.1", 1);

        monitor.begin(a.endpoint());
        InFlight done = monitor.begin(a.endpoint());
        done.finished();
        done.firstToken(5_000_000);
        InFlight away = monitor.begin(outsider);
        away.finished();
        away.firstToken(1);

        EndpointLoad load = monitor.state().member(a.endpoint()).load;
        assertThat(load.inFlight()).isEqualTo(1);
        assertThat(load.timeToFirstTokenNanos()).isEqualTo(5_000_000);
        assertThatThrownBy(() -> done.firstToken(-1)).hasMessage("nanos: -1 (expected: >= 0)");
    }

    @Test
    void start_rejectsDuplicateEndpoints() throws IOException {
        MetricsServer a = server(metrics(0, 0));

        assertThatThrownBy(() -> monitor(OPTIONS, a.endpoint(), a.endpoint()))
                .hasMessage("endpoints: " + a.endpoint() + " twice (expected: distinct endpoints)");
    }

    @Test
    void close_stopsScraping() throws IOException {
        MetricsServer a = server(metrics(0, 0));
        PoolMonitor monitor = monitor(OPTIONS, a.endpoint());
        awaiting().until(() -> a.scrapes() >= 2);

        monitor.close();
        int afterClose = a.scrapes();

        await().during(Duration.ofMillis(10 * INTERVAL.toMillis())).atMost(Duration.ofSeconds(2))
                .until(() -> a.scrapes() <= afterClose + 1);
    }

    private MetricsServer server(String body) throws IOException {
        MetricsServer server = MetricsServer.start(body);
        resources.add(server);
        return server;
    }

    private PoolMonitor monitor(MonitorOptions options, Endpoint... endpoints) {
        PoolMonitor monitor = PoolMonitor.start(List.of(endpoints), options, http, scheduler);
        resources.add(monitor);
        return monitor;
    }

    private static Picker picker(ScorerWeights weights) {
        return Picker.of(weights, Thresholds.DEFAULT, new SplittableRandom(3));
    }

    private static EndpointState state(PoolMonitor monitor, Endpoint endpoint) {
        return monitor.state().state(endpoint).orElseThrow();
    }

    private static String metrics(int waiting, double kv) {
        return "# TYPE vllm:num_requests_waiting gauge\n"
                + "vllm:num_requests_waiting{model_name=\"m\"} " + waiting + ".0\n"
                + "vllm:kv_cache_usage_perc{model_name=\"m\"} " + kv + "\n";
    }

    private static ConditionFactory awaiting() {
        return await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10));
    }
}
