package io.aimesh.xds.server;

import static java.util.Objects.requireNonNull;

import io.aimesh.xds.snapshot.ResourceType;
import io.aimesh.xds.snapshot.XdsSnapshot;
import java.util.Map;
import java.util.TreeMap;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * Holds the snapshots clients should converge to, one per config scope (a policy namespace; a
 * node gets its own scope's only), and tells the open streams when they change. Publishing only hands each stream a task on a small fan-out pool: the streams
 * diff and encode in parallel, on every core, and the publisher (the policy reload thread)
 * is free again at once. Thread-safe.
 */
public final class SnapshotHub implements AutoCloseable {
    /** The scope of nodes that name none, and of a single snapshot published alone. */
    public static final String DEFAULT_SCOPE = "";

    /**
     * The snapshot of each scope, their combined version, and the {@link System#nanoTime()} they were
     * published at, to measure push latency.
     */
    record Published(Map<String, XdsSnapshot> scopes, String version, long publishedNanos) {
        /** The scope's snapshot, or {@code null} when it has none. */
        XdsSnapshot snapshot(String scope) {
            return scopes.get(scope);
        }

        /** Whether some scope other than {@code scope} has a resource of {@code type} called {@code name}. */
        boolean elsewhere(String scope, ResourceType type, String name) {
            for (Map.Entry<String, XdsSnapshot> entry : scopes.entrySet()) {
                if (!entry.getKey().equals(scope) && entry.getValue().resource(type, name) != null) {
                    return true;
                }
            }
            return false;
        }
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

    /** Makes {@code snapshot} current, as the only scope, the default one. */
    public void publish(XdsSnapshot snapshot) {
        publish(Map.of(DEFAULT_SCOPE, requireNonNull(snapshot, "snapshot")));
    }

    /** Makes {@code scopes} current (scope to snapshot); a set equal in version to the current one is ignored. */
    public void publish(Map<String, XdsSnapshot> scopes) {
        requireNonNull(scopes, "scopes");
        Map<String, XdsSnapshot> sorted = java.util.Collections.unmodifiableMap(new TreeMap<>(scopes));
        String version = version(sorted);
        Published next;
        synchronized (this) {
            if (current != null && version.equals(current.version())) {
                return;
            }
            next = new Published(sorted, version, System.nanoTime());
            current = next;
        }
        metrics.snapshotPublished();
        for (Consumer<Published> subscriber : subscribers) {
            fanout.execute(() -> subscriber.accept(next));
        }
    }

    /**
     * The current snapshot of the default scope (or of the only scope there is), or {@code null}
     * before the first publish.
     */
    public XdsSnapshot current() {
        Published published = current;
        if (published == null) {
            return null;
        }
        XdsSnapshot snapshot = published.snapshot(DEFAULT_SCOPE);
        return snapshot == null && published.scopes().size() == 1 ? published.scopes().values().iterator().next() : snapshot;
    }

    /** The current snapshot of every scope (empty before the first publish). */
    public Map<String, XdsSnapshot> currentScopes() {
        Published published = current;
        return published == null ? Map.of() : published.scopes();
    }

    /** The version over every scope, or {@code null} before the first publish. */
    public String currentVersion() {
        Published published = current;
        return published == null ? null : published.version();
    }

    /** One scope's snapshot version stands for a set of one default scope, so single-scope versions read as before. */
    private static String version(Map<String, XdsSnapshot> scopes) {
        if (scopes.size() == 1 && scopes.containsKey(DEFAULT_SCOPE)) {
            return scopes.get(DEFAULT_SCOPE).version();
        }
        StringBuilder text = new StringBuilder();
        scopes.forEach((scope, snapshot) -> text.append(scope).append('=').append(snapshot.version()).append('\n'));
        return io.aimesh.xds.snapshot.XdsResource.hash(text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
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
