package io.aimesh.xds;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A directory laid out and updated the way the kubelet lays out a ConfigMap volume (Kubernetes'
 * {@code pkg/volume/util/atomic_writer.go}): the payload lives in a timestamped directory
 * {@code ..2026_12_02_10_00_00.NNN}, {@code ..data} links to it, and each visible file is a link
 * {@code name -> ..data/name}. An update writes a new timestamped directory, links
 * {@code ..data_tmp} to it, renames {@code ..data_tmp} over {@code ..data} (one atomic rename),
 * adds links for new names, removes links for names gone, and removes the old directory, in that
 * order. Kept apart from the tests so both sides of the swap follow those steps exactly.
 */
final class KubeletVolume {
    private static final String DATA = "..data";
    private static final String DATA_TMP = "..data_tmp";

    private final Path dir;
    private int version;
    private Map<String, String> current = Map.of();

    private KubeletVolume(Path dir) {
        this.dir = dir;
    }

    /** Lays out {@code files} (name to content) in {@code dir}, which must be empty. */
    static KubeletVolume create(Path dir, Map<String, String> files) throws IOException {
        KubeletVolume volume = new KubeletVolume(dir);
        volume.update(files);
        return volume;
    }

    /** Replaces the whole payload by {@code files}, as the kubelet does after a ConfigMap edit. */
    void update(Map<String, String> files) throws IOException {
        Path old = Files.isSymbolicLink(dir.resolve(DATA)) ? dir.resolve(Files.readSymbolicLink(dir.resolve(DATA))) : null;
        // The kubelet's name: MkdirTemp with the UTC time formatted as ..2006_01_02_15_04_05.
        Path next = Files.createDirectory(dir.resolve(String.format("..2026_12_02_10_00_%02d.%09d", version, 123456789 + version)));
        version++;
        for (Map.Entry<String, String> file : files.entrySet()) {
            Files.writeString(next.resolve(file.getKey()), file.getValue(), StandardCharsets.UTF_8);
        }
        Files.createSymbolicLink(dir.resolve(DATA_TMP), next.getFileName());
        Files.move(dir.resolve(DATA_TMP), dir.resolve(DATA), StandardCopyOption.ATOMIC_MOVE);
        for (String name : files.keySet()) {
            if (!current.containsKey(name)) {
                Files.createSymbolicLink(dir.resolve(name), Path.of(DATA, name));
            }
        }
        for (String name : current.keySet()) {
            if (!files.containsKey(name)) {
                Files.delete(dir.resolve(name));
            }
        }
        if (old != null) {
            try (Stream<Path> paths = Files.walk(old)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
        current = Map.copyOf(files);
    }
}
