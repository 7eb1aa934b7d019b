package io.aimesh.internal;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The project home: the nearest directory at or above the working directory that holds
 * {@code envoy.version} (the repository root, from any module's build), else the working
 * directory. Tools installed at run time (Envoy, the Go tools tests build) live in its
 * {@code .aimesh/} directory, which git ignores and CI may keep between runs.
 */
public final class ProjectHome {
    private ProjectHome() {
    }

    /** The project home, absolute. */
    public static Path find() {
        Path workDir = Path.of("").toAbsolutePath();
        for (Path dir = workDir; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("envoy.version"))) {
                return dir;
            }
        }
        return workDir;
    }

    /** {@code .aimesh/} under the home: the cache of installed tools. */
    public static Path cache() {
        return find().resolve(".aimesh");
    }
}
