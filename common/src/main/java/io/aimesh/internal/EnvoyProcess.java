package io.aimesh.internal;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A running Envoy, started on a bootstrap file, and the one way aimesh starts and stops one. Its
 * admin address is known once {@link #start} returns: Envoy writes it to a file when the admin
 * listener is up, which is also the earliest moment it can be probed. Thread-safe.
 */
public final class EnvoyProcess implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final Path log;
    private final String adminAddress;

    private EnvoyProcess(Process process, Path log, String adminAddress) {
        this.process = process;
        this.log = log;
        this.adminAddress = adminAddress;
    }

    /**
     * Starts Envoy and waits (at most 30 s) until its admin interface listens; its listeners come
     * later, from xDS.
     *
     * @param binary the Envoy to run, e.g. from {@link EnvoyBinary#locate}
     * @param bootstrap the bootstrap YAML file
     * @param log where Envoy's output goes (appended)
     * @param concurrency worker threads, {@code >= 1}
     * @param logLevel Envoy's {@code --log-level}, e.g. {@code info} or {@code warning}
     * @throws IllegalStateException when Envoy exits or does not come up in time; the message has the log's tail
     */
    public static EnvoyProcess start(Path binary, Path bootstrap, Path log, int concurrency, String logLevel)
            throws IOException, InterruptedException {
        requireNonNull(binary, "binary");
        requireNonNull(bootstrap, "bootstrap");
        requireNonNull(log, "log");
        requireNonNull(logLevel, "logLevel");
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency: " + concurrency + " (expected: >= 1)");
        }
        Files.createDirectories(log.toAbsolutePath().getParent());
        Path adminFile = log.resolveSibling(log.getFileName() + ".admin-address");
        Files.deleteIfExists(adminFile);
        // Dynamic base id and no hot restart: several Envoys (tests, benchmark paths) share one machine.
        Process process = new ProcessBuilder(List.of(binary.toString(), "-c", bootstrap.toString(), "--use-dynamic-base-id",
                "--disable-hot-restart", "--admin-address-path", adminFile.toString(), "--log-level", logLevel,
                "--concurrency", Integer.toString(concurrency), "--drain-time-s", "1"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        EnvoyProcess envoy = null;
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try {
            while (envoy == null) {
                String address = Files.exists(adminFile) ? Files.readString(adminFile).trim() : "";
                if (!address.isEmpty()) {
                    envoy = new EnvoyProcess(process, log, address);
                } else if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("Envoy " + (process.isAlive() ? "did not start within " + START_TIMEOUT.toSeconds()
                            + " s" : "exited with " + process.exitValue()) + "; the end of " + log + ":\n" + ChildProcess.tail(log, 30));
                }
                TimeUnit.MILLISECONDS.sleep(50);
            }
            return envoy;
        } finally {
            if (envoy == null) {
                ChildProcess.stop(process);
            }
        }
    }

    /** The admin interface's {@code host:port}. */
    public String adminAddress() {
        return adminAddress;
    }

    /** The admin interface's port. */
    public int adminPort() {
        return Integer.parseInt(adminAddress.substring(adminAddress.lastIndexOf(':') + 1));
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** The last {@code lines} lines of the log, or why there are none: for failure messages. */
    public String logTail(int lines) {
        return ChildProcess.tail(log, lines);
    }

    /** SIGTERM, then SIGKILL after 10 s. Idempotent. */
    @Override
    public void close() {
        ChildProcess.stop(process);
    }
}
