package io.aimesh.filter.it;

import io.aimesh.testing.Mesh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Killing the filter under traffic: fail-closed refuses, fail-open serves, both recover when it returns. */
class FailureModeIT {
    /** The status recorded for a response cut off by a reset. */
    private static final int RESET = -1;

    private Mesh mesh;
    private final List<Integer> statuses = new CopyOnWriteArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> clients = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws Exception {
        running.set(false);
        for (Thread client : clients) {
            client.join();
        }
        if (mesh != null) {
            mesh.close();
        }
    }

    @Test
    void failClosed_refusesWhileTheFilterIsDown_andRecoversWhenItReturns() throws Exception {
        mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(1_000_000).start();
        startTraffic();

        List<Integer> whileDown = killFilterAndObserve();
        mesh.startFilter();
        List<Integer> afterRestart = observeRecovery();

        assertThat(whileDown).as("all statuses: %s", statuses).isNotEmpty()
                .allSatisfy(status -> assertThat(status).isGreaterThanOrEqualTo(500));
        assertThat(afterRestart).as("all statuses: %s", statuses).containsOnly(200);
        assertThat(mesh.chat(null, false, 2, Map.of()).statusCode()).isEqualTo(401); // the filter is back in the path
    }

    @Test
    void failOpen_servesWhileTheFilterIsDown_andRecoversWhenItReturns() throws Exception {
        mesh = Mesh.builder().filter("open").acmeTokensPerMinute(1_000_000).start();
        startTraffic();

        List<Integer> whileDown = killFilterAndObserve();
        int unauthenticatedWhileDown = mesh.chat(null, false, 2, Map.of()).statusCode();
        mesh.startFilter();
        List<Integer> afterRestart = observeRecovery();

        assertThat(whileDown).isNotEmpty().containsOnly(200);
        assertThat(unauthenticatedWhileDown).isEqualTo(200); // open: no identity check without the filter
        assertThat(afterRestart).containsOnly(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> mesh.chat(null, false, 2, Map.of()).statusCode() == 401);
    }

    private void startTraffic() {
        for (int i = 0; i < 2; i++) {
            boolean stream = i == 0;
            Thread client = new Thread(() -> {
                while (running.get()) {
                    try {
                        statuses.add(mesh.chat(Mesh.GLOBEX_KEY, stream, 4, Map.of()).statusCode());
                    } catch (java.io.UncheckedIOException e) {
                        statuses.add(RESET); // a stream in flight when a fail-closed filter dies is reset
                    }
                }
            }, "traffic-" + i);
            client.start();
            clients.add(client);
        }
        await().until(() -> statuses.size() > 20);
        assertThat(statuses).containsOnly(200);
    }

    /** Kills the filter, lets requests in flight finish (or be reset), then returns the statuses of the next 20. */
    private List<Integer> killFilterAndObserve() {
        mesh.stopFilter();
        int drained = statuses.size() + 4;
        await().until(() -> statuses.size() >= drained);
        int from = statuses.size();
        await().atMost(Duration.ofSeconds(30)).until(() -> statuses.size() >= from + 20);
        return window(from);
    }

    /**
     * Waits until requests succeed again (five in a row: requests caught mid-restart may still
     * fail), then returns the statuses of the next 20.
     */
    private List<Integer> observeRecovery() {
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            List<Integer> all = List.copyOf(statuses);
            List<Integer> last = all.subList(Math.max(0, all.size() - 5), all.size());
            return last.size() == 5 && last.stream().allMatch(status -> status == 200);
        });
        int from = statuses.size();
        await().atMost(Duration.ofSeconds(30)).until(() -> statuses.size() >= from + 20);
        return window(from);
    }

    /**
     * The 20 statuses from index {@code from}, from a snapshot: a sub-list of the live list fails
     * with ConcurrentModificationException when a client adds while it is copied.
     */
    private List<Integer> window(int from) {
        return List.copyOf(statuses).subList(from, from + 20);
    }
}
