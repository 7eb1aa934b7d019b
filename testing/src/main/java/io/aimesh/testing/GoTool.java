package io.aimesh.testing;

import static java.util.Objects.requireNonNull;

import io.aimesh.internal.ProjectHome;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The Go tools tests check rendered files with, built at test time into
 * {@code .aimesh/tools/NAME-VERSION/} (never committed; CI keeps {@code .aimesh/} between runs where
 * it can, and Go's own module and build caches make a rebuild quicker): released tools from the Go
 * module proxy, pinned here, the one place their version is named; and the project's own Go
 * programs, built from their module directory in the repository, whose version is a digest of
 * their sources so an edit builds anew. {@code $AIMESH_<NAME>} (e.g. {@code AIMESH_ISTIOCTL})
 * points at a binary of one's own instead.
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
    KUSTOMIZE("kustomize", "sigs.k8s.io/kustomize/kustomize/v5", "v5.8.2"),
    /**
     * Turns rendered Istio resources into the static bootstrap istiod's own config generation gives
     * a gateway (integration-tests/src/test/go/istiod-bootstrap); the first build compiles much of
     * istiod, minutes on 2 cores, seconds once Go's build cache holds istioctl's build.
     */
    ISTIOD_BOOTSTRAP("istiod-bootstrap", "integration-tests/src/test/go/istiod-bootstrap"),
    /**
     * A proxy-wasm plugin (integration-tests/src/test/go/wasm-guard) built with the proxy-wasm Go SDK
     * and stock Go for WASI ({@code GOOS=wasip1 GOARCH=wasm -buildmode=c-shared}): the same {@code .wasm}
     * for Envoy's wasm filter and the ai-filter.
     */
    WASM_GUARD("wasm-guard.wasm", "integration-tests/src/test/go/wasm-guard");

    private static final long BUILD_MINUTES = 40;

    private final String binary;
    /** A package path on the module proxy, or the module's directory under the project home. */
    private final String pkg;
    /** The pinned version; {@code null} for a module of the project's own. */
    private final String pinned;
    private volatile String failure;

    GoTool(String binary, String pkg, String version) {
        this.binary = binary;
        this.pkg = pkg;
        this.pinned = version;
    }

    /** A Go program of the project's own, in the module directory {@code dir} under the project home. */
    GoTool(String binary, String dir) {
        this(binary, dir, null);
    }

    /**
     * The pinned module version, e.g. {@code v0.8.0}; for a program of the project's own, {@code src-}
     * and the start of the SHA-256 of its sources ({@code go.mod}, {@code go.sum}, {@code *.go}).
     *
     * @throws UncheckedIOException when the sources cannot be read
     */
    public String version() {
        if (pinned != null) {
            return pinned;
        }
        try {
            return "src-" + BuildProcess.sourceDigest(ProjectHome.find().resolve(pkg), "go\\.(mod|sum)|.*\\.go");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the sources of " + binary, e);
        }
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
        String version;
        try {
            version = version();
        } catch (UncheckedIOException e) {
            return fail(e.getMessage() + ": " + e.getCause().getMessage());
        }
        Path dir = ProjectHome.cache().resolve("tools").resolve(binary + "-" + version);
        Path built = dir.resolve(binary);
        if (built(built)) {
            return Optional.of(built);
        }
        if (failure != null) {
            return Optional.empty();
        }
        String problem = BuildProcess.once(dir, built, d -> build(d, version));
        return problem == null && built(built) ? Optional.of(built) : fail(problem == null ? built + " is not executable" : problem);
    }

    /** Why {@link #locate()} is empty, for the skip; {@code null} when it is not. */
    public String skipMessage() {
        return failure == null ? null : "SKIPPED: " + binary + " " + (pinned == null ? "(" + pkg + ")" : pinned)
                + " could not be built here: " + failure;
    }

    private void build(Path dir, String version) throws IOException, InterruptedException {
        ProcessBuilder go;
        String target;
        if (pinned != null) {
            target = "go install " + pkg + "@" + version;
            go = new ProcessBuilder(List.of("go", "install", pkg + "@" + version));
            go.environment().put("GOBIN", dir.toAbsolutePath().toString());
        } else {
            // No -trimpath: it would change every package's key in Go's build cache, so the packages a
            // released tool's build (istioctl's) left there would all be compiled again
            target = "go build " + pkg;
            List<String> command = new java.util.ArrayList<>(List.of("go", "build"));
            if (wasm()) {
                command.add("-buildmode=c-shared"); // a reactor module: proxy-wasm hosts call its exports
            }
            command.addAll(List.of("-o", dir.resolve(binary).toAbsolutePath().toString(), "."));
            go = new ProcessBuilder(command).directory(ProjectHome.find().resolve(pkg).toFile());
            if (wasm()) {
                go.environment().put("GOOS", "wasip1");
                go.environment().put("GOARCH", "wasm");
            }
        }
        System.err.println("aimesh-testing: building " + binary + " (" + target + ") into " + dir
                + "; the first build can take minutes");
        long started = System.nanoTime();
        BuildProcess.run(go, dir, BUILD_MINUTES);
        System.err.printf("aimesh-testing: built %s in %d s%n", dir.resolve(binary), (System.nanoTime() - started) / 1_000_000_000);
    }

    /** A WebAssembly module, not a program of this machine. */
    private boolean wasm() {
        return binary.endsWith(".wasm");
    }

    private boolean built(Path file) {
        return wasm() ? Files.isRegularFile(file) : Files.isExecutable(file);
    }

    private Optional<Path> fail(String reason) {
        failure = requireNonNull(reason == null ? "unknown error" : reason);
        System.err.println("\n!!!!!!!! " + skipMessage() + " !!!!!!!!\n");
        return Optional.empty();
    }
}
