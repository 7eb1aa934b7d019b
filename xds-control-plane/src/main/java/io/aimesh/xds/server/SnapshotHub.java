package io.aimesh.xds.server;

import static java.util.Objects.requireNonNull;

import io.aimesh.xds.snapshot.XdsSnapshot;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * Holds the snapshot every client should converge to and tells the open streams when it
 * changes. Publishing only hands each stream a task on a small fan-out pool: the streams
 * diff and encode in parallel, on every core, and the publisher (the policy reload thread)
 * is free again at once. Thread-safe.
 */
public final class SnapshotHub implements AutoCloseable {
    /** A snapshot and the {@link System#nanoTime()} it was published at, to measure push latency. */
    record Published(XdsSnapshot snapshot, long publishedNanos) {
    }

    private final Set<Consumer<Published>> subscribers = new CopyOnWriteArraySet<>();
    private final XdsMetrics metrics;
    private final ExecutorService fanout = Executors.newFixedThreadPool(
            Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
                Thread t = new Thread(r, "aimesh-xds-fanout");
                t.setDaemon(true);
                return t;
            });
    /** Null until the first valid config: a client is sent nothing rather than an empty config that would wipe its own. */
    private volatile Published current;

    public SnapshotHub(XdsMetrics metrics) {
        this.metrics = requireNonNull(metrics, "metrics");
    }

    /** Makes {@code snapshot} current; a snapshot equal in version to the current one is ignored. */
    public void publish(XdsSnapshot snapshot) {
        requireNonNull(snapshot, "snapshot");
        Published next;
        synchronized (this) {
            if (current != null && snapshot.version().equals(current.snapshot().version())) {
                return;
            }
            next = new Published(snapshot, System.nanoTime());
            current = next;
        }
        metrics.snapshotPublished();
        for (Consumer<Published> subscriber : subscribers) {
            fanout.execute(() -> subscriber.accept(next));
        }
    }

    /** The current snapshot, or {@code null} before the first publish. */
    public XdsSnapshot current() {
        Published published = current;
        return published == null ? null : published.snapshot();
    }

    /** The current snapshot with its publish time, or {@code null} before the first publish. */
    Published published() {
        return current;
    }

    @Override
    public void close() {
        fanout.shutdownNow();
    }

    /** Registers {@code subscriber}; returns the runnable that unregisters it. */
    Runnable subscribe(Consumer<Published> subscriber) {
        subscribers.add(subscriber);
        return () -> subscribers.remove(subscriber);
    }
}
