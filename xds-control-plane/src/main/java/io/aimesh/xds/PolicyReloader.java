package io.aimesh.xds;

import io.aimesh.policy.LoadResult;
import io.aimesh.policy.PolicyError;
import io.aimesh.policy.PolicyLoader;
import io.aimesh.xds.server.SnapshotHub;
import io.aimesh.xds.server.XdsMetrics;
import io.aimesh.xds.snapshot.XdsSnapshot;
import io.aimesh.xds.translate.EnvoyTranslator;
import io.aimesh.xds.translate.TranslationException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.List;

/**
 * Loads the policy directory, compiles it and publishes the result; a directory that fails
 * to load or compile is reported and changes nothing, so the last good config keeps serving.
 * Called from one thread at a time (the watcher's).
 */
final class PolicyReloader {
    private static final System.Logger LOG = System.getLogger(PolicyReloader.class.getName());

    private final Path directory;
    private final EnvoyTranslator translator;
    private final SnapshotHub hub;
    private final XdsMetrics metrics;
    private volatile PolicyStatus status = PolicyStatus.initial();

    PolicyReloader(Path directory, EnvoyTranslator translator, SnapshotHub hub, XdsMetrics metrics) {
        this.directory = directory;
        this.translator = translator;
        this.hub = hub;
        this.metrics = metrics;
    }

    PolicyStatus status() {
        return status;
    }

    void reload() {
        LoadResult result;
        try {
            result = PolicyLoader.loadDirectory(directory);
        } catch (IOException e) {
            reject(List.of(directory + ": " + e.getMessage()));
            return;
        }
        if (!result.ok()) {
            reject(result.errors().stream().map(PolicyError::toString).toList());
            return;
        }
        XdsSnapshot snapshot;
        try {
            snapshot = translator.translate(result.policies());
        } catch (TranslationException e) {
            reject(List.of(e.getMessage()));
            return;
        }
        XdsSnapshot previous = hub.current();
        if (previous != null && previous.version().equals(snapshot.version())) {
            metrics.reload("unchanged");
            status = status.lastRejected() == null ? status : status.applied(snapshot.version());
            return;
        }
        hub.publish(snapshot);
        status = status.applied(snapshot.version());
        metrics.reload("applied");
        LOG.log(Level.INFO, "policies applied: " + result.policies() + ", config version " + snapshot.version());
    }

    private void reject(List<String> errors) {
        status = status.rejected(errors);
        metrics.reload("rejected");
        String serving = status.servingVersion() == null ? "nothing is served yet" : "still serving " + status.servingVersion();
        LOG.log(Level.WARNING, "policies rejected (" + serving + "), " + errors.size() + " error(s):\n  "
                + String.join("\n  ", errors));
    }
}
