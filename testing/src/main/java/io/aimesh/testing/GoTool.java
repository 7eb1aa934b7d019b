package io.aimesh.testing;

import static java.util.Objects.requireNonNull;

import io.aimesh.internal.ProjectHome;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The Go tools tests check rendered files with, built from the Go module proxy at test time into
 * {@code .aimesh/tools/NAME-VERSION/} (never committed; CI keeps {@code .aimesh/} between runs where
 * it can, and Go's own module and build caches make a rebuild quicker). Each is pinned here, the
 * one place its version is named; {@code $AIMESH_<NAME>} (e.g. {@code AIMESH_ISTIOCTL}) points at a
 * binary of one's own instead.
 *
 * <p>A tool that cannot be built (no {@code go}, no proxy) is reported loudly on standard error and
 * {@link #locate()} is empty: callers skip with {@link #skipMessage()}, never silently. Builds are
 * serialised across JVMs by a file lock, so surefire and failsafe never build one tool twice.
 */
public enum GoTool {
    /** Istio's CLI, for {@code istioctl analyze}; the first build takes about 10 minutes on 2 cores. */
    ISTIOCTL("istioctl", "istio.io/istio/istioctl/cmd/istioctl", "v0.0.0-20260827124520-eed52ebb66ad"),
    /** Validates Kubernetes manifests against the API's schemas and CRDs. */
    KUBECONFORM("kubeconform", "github.com/yannh/kubeconform/cmd/kubeconform", "v0.8.0"),
    /** Renders deploy/'s kustomizations as {@code kubectl apply -k} would; v5.8.3 needs a newer Go than 1.26. */
    KUSTOMIZE("kustomize", "sigs.k8s.io/kustomize/kustomize/v5", "v5.8.2");

    private static final long BUILD_MINUTES = 40;

    private final String binary;
    private final String pkg;
    private final String version;
    private volatile String failure;

    GoTool(String binary, String pkg, String version) {
        this.binary = binary;
        this.pkg = pkg;
        this.version = version;
    }

    /** The pinned module version, e.g. {@code v0.8.0}. */
    public String version() {
        return version;
    }

    /**
     * The tool's binary, built first when it is missing (minutes: progress goes to standard error).
     *
     * @return empty when it cannot be built; the reason is printed and kept for {@link #skipMessage()}
     */
    public synchronized Optional<Path> locate() {
        String override = System.getenv("AIMESH_" + name());
        if (override != null && !override.isBlank()) {
            return Optional.of(Path.of(override));
        }
        Path dir = ProjectHome.cache().resolve("tools").resolve(binary + "-" + version);
        Path built = dir.resolve(binary);
        if (Files.isExecutable(built)) {
            return Optional.of(built);
        }
        if (failure != null) {
            return Optional.empty();
        }
        try {
            Files.createDirectories(dir);
            try (FileChannel channel = FileChannel.open(dir.resolveSibling(dir.getFileName() + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock lock = channel.lock()) {
                if (!Files.isExecutable(built)) {
                    build(dir);
                }
            }
            return Optional.of(built);
        } catch (IOException e) {
            return fail(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted while building");
        }
    }

    /** Why {@link #locate()} is empty, for the skip; {@code null} when it is not. */
    public String skipMessage() {
        return failure == null ? null : "SKIPPED: " + binary + " " + version + " could not be built here: " + failure;
    }

    private void build(Path dir) throws IOException, InterruptedException {
        Path log = dir.resolve("build.log");
        String target = pkg + "@" + version;
        System.err.println("aimesh-testing: building " + binary + " (go install " + target + ") into " + dir
                + "; the first build can take minutes");
        ProcessBuilder go = new ProcessBuilder(List.of("go", "install", target))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        go.environment().put("GOBIN", dir.toAbsolutePath().toString());
        Process process;
        try {
            process = go.start();
        } catch (IOException e) {
            throw new IOException("no go command (" + e.getMessage() + ")", e);
        }
        if (!process.waitFor(BUILD_MINUTES, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IOException("go install " + target + " did not finish within " + BUILD_MINUTES + " minutes");
        }
        if (process.exitValue() != 0 || !Files.isExecutable(dir.resolve(binary))) {
            throw new IOException("go install " + target + " failed (exit " + process.exitValue() + "): " + tail(log));
        }
        System.err.println("aimesh-testing: built " + dir.resolve(binary));
    }

    private Optional<Path> fail(String reason) {
        failure = requireNonNull(reason == null ? "unknown error" : reason);
        System.err.println("\n!!!!!!!! " + skipMessage() + " !!!!!!!!\n");
        return Optional.empty();
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    }
}
