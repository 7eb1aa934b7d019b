package io.aimesh.xds;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Watches the policy directory and turns a burst of edits into one reload.
 *
 * <p>Debounce, as istiod does for its pushes: a reload runs once no event has arrived for
 * {@code quiet}, but never later than {@code maxDelay} after the first event of the burst,
 * so a directory that never stops changing is still applied. One thread waits for file
 * events; reloads run on a single scheduler thread, one at a time.
 */
final class PolicyWatcher implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PolicyWatcher.class.getName());

    private final Path directory;
    private final Runnable reload;
    private final long quietNanos;
    private final long maxDelayNanos;
    private final WatchService watcher;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "aimesh-policy-reload");
        t.setDaemon(true);
        return t;
    });
    private final Thread thread;
    /** Guarded by {@code this}. */
    private long burstStart;
    /** Guarded by {@code this}. */
    private ScheduledFuture<?> pending;

    PolicyWatcher(Path directory, Runnable reload, Duration quiet, Duration maxDelay) throws IOException {
        this.directory = directory;
        this.reload = reload;
        this.quietNanos = quiet.toNanos();
        this.maxDelayNanos = maxDelay.toNanos();
        this.watcher = directory.getFileSystem().newWatchService();
        registerTree(directory);
        this.thread = new Thread(this::watch, "aimesh-policy-watch");
        thread.setDaemon(true);
        thread.start();
    }

    /** Runs a reload now on the reload thread and waits for it. */
    void reloadNow() {
        try {
            scheduler.submit(reload).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("policy reload failed", e.getCause());
        }
    }

    private void watch() {
        try {
            while (true) {
                WatchKey key = watcher.take();
                for (var event : key.pollEvents()) {
                    if (event.context() instanceof Path name && event.kind() == ENTRY_CREATE) {
                        Path created = ((Path) key.watchable()).resolve(name);
                        if (Files.isDirectory(created)) {
                            registerTree(created);
                        }
                    }
                }
                key.reset();
                changed();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closing
        } catch (IOException e) {
            LOG.log(Level.ERROR, "cannot watch " + directory + "; policy edits are no longer picked up", e);
        }
    }

    private synchronized void changed() {
        long now = System.nanoTime();
        if (pending == null || pending.isDone()) {
            burstStart = now;
        } else {
            pending.cancel(false);
        }
        long delay = Math.min(quietNanos, burstStart + maxDelayNanos - now);
        pending = scheduler.schedule(reload, Math.max(0, delay), TimeUnit.NANOSECONDS);
    }

    private void registerTree(Path root) throws IOException {
        try (Stream<Path> dirs = Files.walk(root)) {
            for (Path dir : dirs.filter(Files::isDirectory).toList()) {
                dir.register(watcher, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE);
            }
        }
    }

    @Override
    public void close() throws IOException {
        watcher.close();
        thread.interrupt();
        scheduler.shutdownNow();
    }
}
