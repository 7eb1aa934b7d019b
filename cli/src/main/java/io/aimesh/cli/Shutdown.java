package io.aimesh.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Blocks a server command until the JVM is asked to stop (Ctrl-C, SIGTERM), and holds the
 * JVM's exit until the command has closed what it runs, so in-flight work ends cleanly.
 */
final class Shutdown {
    private final CountDownLatch requested = new CountDownLatch(1);
    private final CountDownLatch closed = new CountDownLatch(1);

    Shutdown() {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            requested.countDown();
            try {
                closed.await(15, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "aimesh-shutdown"));
    }

    void awaitRequest() throws InterruptedException {
        requested.await();
    }

    /** Call once everything is closed. */
    void done() {
        closed.countDown();
    }
}
