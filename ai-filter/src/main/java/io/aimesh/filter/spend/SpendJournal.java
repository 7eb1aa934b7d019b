package io.aimesh.filter.spend;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Predicate;

/**
 * What this replica has spent, durably: a directory holding a snapshot of totals and a journal of
 * the charges since, each a line {@code BUCKET[ BUCKET...]<TAB>MICROS} (one charge to every bucket
 * named: a request's levels in one write), and the replica's stable id.
 *
 * <h2>Why this shape</h2>
 * A charge is written to the journal before the filter answers the response's last message, so a
 * client never sees an answer whose cost a killed process did not write: a process that dies keeps
 * every {@code write} the kernel took. Lines are deltas, not totals, so concurrent charges of one
 * bucket need no order among themselves; replaying sums them. The file is forced to the device every
 * {@code syncInterval}: a machine that loses power loses at most that much of the journal (the docs
 * say so). A torn last line (a crash in the middle of a write) is ignored on replay. When the
 * journal passes {@code compactBytes} the totals are written to a new snapshot (whole, then moved
 * into place) and a new journal started, under the write lock that charges take for reading; totals
 * of buckets that no longer count ({@code keep} says which) are left out then.
 *
 * <p>Thread-safe. {@link #append} is one {@code write} on the caller's thread, under a read lock
 * that only compaction takes exclusively.
 */
public final class SpendJournal implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SpendJournal.class.getName());
    private static final String SNAPSHOT = "spend.snapshot";
    private static final String JOURNAL = "spend.journal";
    private static final String REPLICA = "replica-id";

    private final Path directory;
    private final String replica;
    private final long compactBytes;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final ScheduledExecutorService syncer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "aimesh-spend-journal");
        thread.setDaemon(true);
        return thread;
    });
    /** Guarded by {@link #lock}: appends hold it for reading, compaction for writing. */
    private FileChannel journal;
    private final Map<String, Long> recovered;

    private SpendJournal(Path directory, long compactBytes, long syncMillis) throws IOException {
        this.directory = directory;
        this.compactBytes = compactBytes;
        Files.createDirectories(directory);
        this.replica = replicaId(directory.resolve(REPLICA));
        this.recovered = replay();
        this.journal = FileChannel.open(directory.resolve(JOURNAL), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        syncer.scheduleWithFixedDelay(this::sync, syncMillis, syncMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * Opens (or creates) the journal in {@code directory} and replays it.
     *
     * @param compactBytes the journal's size that starts a compaction, {@code > 0}
     * @param syncMillis how often the journal is forced to the device, {@code > 0}
     * @throws IOException when the directory cannot be used; the filter then does not start, rather
     *     than admit against budgets that forgot their spend
     */
    public static SpendJournal open(Path directory, long compactBytes, long syncMillis) throws IOException {
        requireNonNull(directory, "directory");
        if (compactBytes <= 0 || syncMillis <= 0) {
            throw new IllegalArgumentException("compactBytes: " + compactBytes + ", syncMillis: " + syncMillis
                    + " (expected: > 0)");
        }
        return new SpendJournal(directory, compactBytes, syncMillis);
    }

    /** This replica's id: made once, kept in the directory, so a restarted replica is the same one to Redis. */
    public String replica() {
        return replica;
    }

    /** The totals the directory held when opened, by bucket. */
    public Map<String, Long> recovered() {
        return Map.copyOf(recovered);
    }

    /**
     * Records a charge of {@code micros} (negative: a refund) to {@code bucket}; returns once the
     * kernel has it.
     *
     * @throws UncheckedIOException when the write fails: the caller must not count the charge as durable
     */
    public void append(String bucket, long micros) {
        append(java.util.List.of(bucket), micros);
    }

    /**
     * Records one charge of {@code micros} to each of {@code buckets} in one line (one {@code write}
     * per request, whatever its levels); returns once the kernel has it.
     *
     * @throws UncheckedIOException when the write fails: the caller must not count the charge as durable
     */
    public void append(java.util.List<String> buckets, long micros) {
        byte[] line = (String.join(" ", buckets) + "\t" + micros + "\n").getBytes(StandardCharsets.UTF_8);
        lock.readLock().lock();
        try {
            ByteBuffer buffer = ByteBuffer.wrap(line);
            while (buffer.hasRemaining()) {
                journal.write(buffer);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the spend journal in " + directory, e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Writes {@code totals} (the ledger's, read under the same exclusive lock) as the new snapshot,
     * leaving out the buckets {@code keep} refuses, and starts an empty journal; does nothing while the
     * journal is smaller than the compaction size.
     *
     * @param totals supplies every bucket's total; called with appends stopped
     */
    public void compactIfLarge(java.util.function.Supplier<Map<String, Long>> totals, Predicate<String> keep) {
        try {
            if (journal.size() < compactBytes) {
                return;
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot read the spend journal's size: " + e.getMessage());
            return;
        }
        lock.writeLock().lock();
        try {
            StringBuilder snapshot = new StringBuilder();
            totals.get().forEach((bucket, micros) -> {
                if (micros != 0 && keep.test(bucket)) {
                    snapshot.append(bucket).append('\t').append(micros).append('\n');
                }
            });
            Path tmp = directory.resolve(SNAPSHOT + ".tmp");
            Files.writeString(tmp, snapshot, StandardCharsets.UTF_8);
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(tmp, directory.resolve(SNAPSHOT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            journal.truncate(0);
            journal.force(true);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot compact the spend journal in " + directory + ": " + e.getMessage()
                    + " (it keeps growing; nothing is lost)");
        } finally {
            lock.writeLock().unlock();
        }
    }

    private Map<String, Long> replay() throws IOException {
        Map<String, Long> totals = new HashMap<>();
        read(directory.resolve(SNAPSHOT), totals);
        Path journalFile = directory.resolve(JOURNAL);
        long complete = read(journalFile, totals);
        if (Files.exists(journalFile) && complete < Files.size(journalFile)) {
            // The torn line goes, or the next charge would be appended to it and spoil both.
            try (FileChannel channel = FileChannel.open(journalFile, StandardOpenOption.WRITE)) {
                channel.truncate(complete);
                channel.force(true);
            }
        }
        return totals;
    }

    /**
     * Adds every complete, well-formed line of {@code file} to {@code totals}; a torn last line is
     * skipped. Returns the length of the complete lines, in bytes.
     */
    private static long read(Path file, Map<String, Long> totals) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int lineNumber = 0;
        int start = 0;
        for (int end = text.indexOf('\n'); end >= 0; start = end + 1, end = text.indexOf('\n', start)) {
            lineNumber++;
            String line = text.substring(start, end);
            int tab = line.lastIndexOf('\t');
            try {
                long micros = Long.parseLong(line.substring(tab + 1));
                for (String bucket : line.substring(0, tab).split(" ")) {
                    totals.merge(bucket, micros, Long::sum);
                }
            } catch (RuntimeException e) {
                throw new IOException(file + ":" + lineNumber + ": not BUCKET<TAB>MICROS: '" + line + "'");
            }
        }
        if (start < text.length()) {
            LOG.log(Level.WARNING, file + ": ignoring a torn last line (a crash during a write): '" + text.substring(start) + "'");
        }
        return text.substring(0, start).getBytes(StandardCharsets.UTF_8).length;
    }

    private static String replicaId(Path file) throws IOException {
        if (Files.exists(file)) {
            String id = Files.readString(file, StandardCharsets.UTF_8).trim();
            if (!id.isEmpty()) {
                return id;
            }
        }
        String id = UUID.randomUUID().toString();
        Path tmp = file.resolveSibling(REPLICA + ".tmp");
        Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return id;
    }

    private void sync() {
        lock.readLock().lock();
        try {
            journal.force(false);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot force the spend journal to its device: " + e.getMessage());
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Forces the journal to the device and closes it. */
    @Override
    public void close() {
        syncer.shutdownNow();
        lock.writeLock().lock();
        try {
            journal.force(true);
            journal.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the spend journal failed: " + e.getMessage());
        } finally {
            lock.writeLock().unlock();
        }
    }
}
