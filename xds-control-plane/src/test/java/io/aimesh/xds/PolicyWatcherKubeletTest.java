package io.aimesh.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.policy.InferencePool;
import io.aimesh.policy.LoadResult;
import io.aimesh.policy.PolicyLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A policy directory that is a ConfigMap volume: laid out, and swapped, as the kubelet does it. */
class PolicyWatcherKubeletTest {
    @TempDir
    Path dir;

    @Test
    void load_readsEachFileOnceThroughDataLink() throws IOException {
        KubeletVolume.create(dir, Map.of("pools.yaml", pool("alpha"), "more.yaml", pool("beta")));

        LoadResult result = PolicyLoader.loadDirectory(dir);

        // The timestamped directory holds the same files: reading it too would declare each pool twice.
        assertThat(result.errors()).isEmpty();
        assertThat(names(result)).containsExactly("alpha", "beta");
    }

    @Test
    void load_errorsNameTheVisibleFileNotTheTimestampedDirectory() throws IOException {
        KubeletVolume.create(dir, Map.of("pools.yaml", pool("Not_A_Name")));

        LoadResult result = PolicyLoader.loadDirectory(dir);

        assertThat(result.errors()).singleElement()
                .satisfies(e -> assertThat(e.location().file()).isEqualTo("pools.yaml"));
    }

    @Test
    void watcher_reloadsExactlyTheNewVersionAfterDataSwap() throws IOException {
        KubeletVolume volume = KubeletVolume.create(dir, Map.of("pools.yaml", pool("alpha"), "old.yaml", pool("beta")));
        AtomicReference<LoadResult> loaded = new AtomicReference<>();
        try (PolicyWatcher watcher = new PolicyWatcher(dir, () -> loaded.set(load(dir)),
                Duration.ofMillis(20), Duration.ofMillis(200))) {
            watcher.reloadNow();
            assertThat(names(loaded.get())).containsExactly("alpha", "beta");

            // An edit of one file, a file added and one removed: only the dot-entries see events.
            volume.update(Map.of("pools.yaml", pool("gamma"), "new.yaml", pool("delta")));

            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(names(loaded.get())).containsExactly("delta", "gamma"));
            assertThat(loaded.get().errors()).isEmpty();
            try (var entries = Files.list(dir)) {
                assertThat(entries.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("..2026")))
                        .as("the kubelet removed the old version").hasSize(1);
            }

            volume.update(Map.of("pools.yaml", pool("epsilon")));

            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(names(loaded.get())).containsExactly("epsilon"));
        }
    }

    private static LoadResult load(Path dir) {
        try {
            return PolicyLoader.loadDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> names(LoadResult result) {
        return result.policies().pools().stream().map(InferencePool::name).sorted().toList();
    }

    private static String pool(String name) {
        return """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata:
                  name: %s
                spec:
                  endpoints: [127.0.0.1:8000]
                """.formatted(name);
    }
}
