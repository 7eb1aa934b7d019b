package io.aimesh.xds;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Watches the policy directory and turns a burst of edits into one reload.
 *
 * <p>Debounce, as istiod does for its pushes: a reload runs once no event has arrived for
 * {@code quiet}, but never later than {@code maxDelay} after the first event of the burst,
 * so a directory that never stops changing is still applied. One thread waits for file
 * events; reloads run on a single scheduler thread, one at a time.
 *
 * <p>A ConfigMap volume changes without an event on its files: the kubelet writes the new version
 * into a new {@code ..<timestamp>} directory, links {@code ..data_tmp} to it, renames that link
 * over {@code ..data} and removes the old directory, so the events are on those dot-entries of
 * the watched directory itself, and any event there is a reason to reload. Dot-directories are
 * not watched inside: the loader never reads them by their own names, and each update would
 * otherwise leave a key registered on a directory about to be removed.
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
                        if (!hidden(created) && Files.isDirectory(created, LinkOption.NOFOLLOW_LINKS)) {
                            try {
                                registerTree(created);
                            } catch (NoSuchFileException gone) {
                                // Removed again before it could be watched; that removal is an event of its own.
                            }
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
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(directory) && hidden(dir)) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                dir.register(watcher, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static boolean hidden(Path path) {
        return path.getFileName().toString().startsWith(".");
    }

    @Override
    public void close() throws IOException {
        watcher.close();
        thread.interrupt();
        scheduler.shutdownNow();
    }
}
