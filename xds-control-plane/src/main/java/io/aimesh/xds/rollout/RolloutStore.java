package io.aimesh.xds.rollout;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * Keeps the rollouts' state in a JSON file so that a restarted control plane goes on where it
 * was: written whole to a temporary file and moved over the old one, so a crash mid-write leaves
 * the old state, never half of the new. Without a file the state lives in memory only.
 */
final class RolloutStore {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * One rollout's lasting state.
     *
     * @param canaryWeight the canary's percent when saved, served until the policies are loaded again
     * @param stepSinceMillis when the current step began, epoch milliseconds
     * @param endedAtMillis when it was promoted, rolled back or aborted, else 0
     */
    record Entry(String baseline, String canary, String state, int step, int canaryWeight, long stepSinceMillis, String reason,
                 long endedAtMillis) {
    }

    private final Path file;

    /** @param file where the state is kept, or {@code null} for memory only */
    RolloutStore(Path file) {
        this.file = file;
    }

    /**
     * The saved state by rollout key; empty when there is no file yet.
     *
     * @throws IOException when the file exists but cannot be read or is not a state file: the
     *     control plane must not start over from the first steps without anyone noticing
     */
    Map<String, Entry> load() throws IOException {
        if (file == null || !Files.exists(file)) {
            return Map.of();
        }
        try {
            return new TreeMap<>(JSON.readValue(file.toFile(), new TypeReference<Map<String, Entry>>() { }));
        } catch (JacksonException e) {
            throw new IOException(file + ": not a rollout state file (" + e.getOriginalMessage() + "); fix or remove it "
                    + "to start every rollout from its first step", e);
        }
    }

    void save(Map<String, Entry> entries) throws IOException {
        if (file == null) {
            return;
        }
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path temporary = Files.createTempFile(parent, ".rollouts", ".json");
        try {
            JSON.writeValue(temporary.toFile(), new TreeMap<>(entries));
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** Where the state is kept, or {@code null}. */
    Path file() {
        return file;
    }
}
