package io.aimesh.picker;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A model server's {@code /metrics} on loopback, serving canned text that a test can change, or
 * failing with a status, or hanging until closed.
 */
final class MetricsServer implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "metrics-server");
        thread.setDaemon(true);
        return thread;
    });
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicInteger scrapes = new AtomicInteger();
    private volatile String body = "";
    private volatile int status = 200;
    private volatile boolean hang;

    private MetricsServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/metrics", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    static MetricsServer start(String body) throws IOException {
        MetricsServer server = new MetricsServer();
        server.serve(body);
        return server;
    }

    Endpoint endpoint() {
        return new Endpoint("127.0.0.1", server.getAddress().getPort());
    }

    /** Answers every scrape with 200 and {@code body}. */
    void serve(String body) {
        this.body = body;
        this.status = 200;
        this.hang = false;
    }

    /** Answers every scrape with {@code status} and no metrics. */
    void fail(int status) {
        this.status = status;
        this.hang = false;
    }

    /** Answers no scrape until closed. */
    void hang() {
        this.hang = true;
    }

    /** Scrapes received so far. */
    int scrapes() {
        return scrapes.get();
    }

    @Override
    public void close() {
        closed.countDown();
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try {
            scrapes.incrementAndGet();
            if (hang) {
                closed.await();
                return;
            }
            byte[] bytes = (status == 200 ? body : "failing").getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            exchange.close();
        }
    }
}
