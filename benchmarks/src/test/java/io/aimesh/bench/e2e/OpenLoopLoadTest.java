package io.aimesh.bench.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.aimesh.bench.e2e.OpenLoopLoad.LoadRun;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The generator against a JDK HTTP server that answers on its one dispatcher thread, so one slow answer stalls it all. */
class OpenLoopLoadTest {
    private static final byte[] REQUEST = ChatRequest.http(1024, "key");

    private final AtomicInteger requests = new AtomicInteger();
    private volatile int stallAt = -1;
    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void run_sendsTheScheduledRequestsAndCountsTheMarker() throws IOException {
        start(true);

        LoadRun run = new OpenLoopLoad(address(), "x-mark", "test").run(REQUEST, 200, Duration.ofMillis(500), 2);

        assertThat(run.scheduled()).isEqualTo(100);
        assertThat(run.stats().ok()).isEqualTo(100);
        assertThat(run.stats().errors()).isZero();
        assertThat(run.stats().marked()).isEqualTo(100);
        assertThat(requests.get()).isEqualTo(100);
        assertThat(run.wallNanos()).isBetween(TimeUnit.MILLISECONDS.toNanos(490), TimeUnit.SECONDS.toNanos(5));
    }

    @Test
    void run_chargesAServerStallToEveryRequestItDelayed() throws IOException {
        start(false);
        stallAt = 50;

        LoadRun run = new OpenLoopLoad(address(), "x-mark", "test").run(REQUEST, 200, Duration.ofSeconds(1), 2);

        // A closed-loop client would record one slow request; the 200 ms stall delayed the ~40 scheduled during it.
        assertThat(run.stats().ok()).isEqualTo(200);
        assertThat(run.stats().latency().getMaxValue()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
        long delayedPastHalf = run.stats().latency().getCountBetweenValues(TimeUnit.MILLISECONDS.toNanos(100),
                TimeUnit.SECONDS.toNanos(10));
        assertThat(delayedPastHalf).isGreaterThanOrEqualTo(15);
        assertThat(run.stats().marked()).isZero();
    }

    @Test
    void run_countsNon200AsErrors() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(503, -1);
            exchange.close();
        });
        server.start();

        LoadRun run = new OpenLoopLoad(address(), "x-mark", "test").run(REQUEST, 100, Duration.ofMillis(200), 1);

        assertThat(run.stats().ok()).isZero();
        assertThat(run.stats().errors()).isEqualTo(20);
        assertThat(run.stats().firstError()).isEqualTo("status 503");
    }

    private void start(boolean mark) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            if (requests.incrementAndGet() == stallAt) {
                // The stall under test: the server itself takes 200 ms over this answer (a timed
                // park, nothing the test waits for), holding its one dispatcher thread.
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
                for (long left = until - System.nanoTime(); left > 0; left = until - System.nanoTime()) {
                    LockSupport.parkNanos(left); // may return early: park again for the rest
                }
            }
            byte[] body = "{}".getBytes();
            if (mark) {
                exchange.getResponseHeaders().set("X-Mark", "1");
            }
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start(); // no executor: every exchange runs on the one dispatcher thread
    }

    private InetSocketAddress address() {
        return server.getAddress();
    }
}
