package io.aimesh.testing;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The steps every test-time tool build shares ({@link GoTool}, {@link RustWasmExample}): one build
 * per cache directory at a time across JVMs (a file lock beside it), and commands run with their
 * output in the directory's {@code build.log}, bounded in time, a failure reported with the log's tail.
 */
final class BuildProcess {
    /** A build that fills {@code dir}. */
    interface Steps {
        void run(Path dir) throws IOException, InterruptedException;
    }

    private BuildProcess() {
    }

    /**
     * Runs {@code steps} in {@code dir} unless {@code built} exists, holding the directory's lock.
     *
     * @return why {@code built} is not there after it, or {@code null} when it is
     */
    static String once(Path dir, Path built, Steps steps) {
        try {
            Files.createDirectories(dir);
            try (FileChannel channel = FileChannel.open(dir.resolveSibling(dir.getFileName() + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock lock = channel.lock()) {
                if (!Files.exists(built)) {
                    steps.run(dir);
                }
            }
            return Files.exists(built) ? null : "the build left no " + built;
        } catch (IOException e) {
            return e.getMessage() == null ? e.toString() : e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while building";
        }
    }

    /**
     * Runs {@code command}, its output appended to {@code dir}'s build.log.
     *
     * @throws IOException when it cannot start, fails, or runs past {@code minutes}
     */
    static void run(ProcessBuilder command, Path dir, long minutes) throws IOException, InterruptedException {
        Path log = dir.resolve("build.log");
        String what = String.join(" ", command.command());
        command.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process process;
        try {
            process = command.start();
        } catch (IOException e) {
            throw new IOException("cannot run " + command.command().get(0) + " (" + e.getMessage() + ")", e);
        }
        if (!process.waitFor(minutes, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IOException(what + " did not finish within " + minutes + " minutes");
        }
        if (process.exitValue() != 0) {
            throw new IOException(what + " failed (exit " + process.exitValue() + "): " + tail(log));
        }
    }

    static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    }

    /**
     * The first 12 hex digits of the SHA-256 over the files of {@code dir} whose names match
     * {@code names}, by name: a program of the project's own is rebuilt when its sources change.
     */
    static String sourceDigest(Path dir, String names) throws IOException {
        java.security.MessageDigest sha256;
        try {
            sha256 = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        List<Path> sources;
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            sources = files.filter(f -> f.getFileName().toString().matches(names)).sorted().toList();
        }
        if (sources.isEmpty()) {
            throw new IOException("no sources in " + dir);
        }
        for (Path source : sources) {
            sha256.update(source.getFileName().toString().getBytes(StandardCharsets.UTF_8));
            sha256.update(Files.readAllBytes(source));
        }
        return java.util.HexFormat.of().formatHex(sha256.digest()).substring(0, 12);
    }
}
