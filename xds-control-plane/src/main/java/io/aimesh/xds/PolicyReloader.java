package io.aimesh.xds;

import io.aimesh.policy.LoadResult;
import io.aimesh.policy.PolicyError;
import io.aimesh.policy.PolicyLoader;
import io.aimesh.policy.PolicySet;
import io.aimesh.xds.server.SnapshotHub;
import io.aimesh.xds.server.XdsMetrics;
import io.aimesh.xds.snapshot.XdsSnapshot;
import io.aimesh.xds.translate.EndpointWeights;
import io.aimesh.xds.translate.EnvoyTranslator;
import io.aimesh.xds.translate.TranslationException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * Loads the policy directory, compiles it and publishes the result; a directory that fails
 * to load or compile is reported and changes nothing, so the last good config keeps serving.
 * Also recompiles the last good policies when the EDS weights of {@code eds-weights} pools change,
 * and when asked to {@link #refresh}: endpoint names are resolved at each compile, so a name whose
 * addresses changed (a headless Service's pods) is served anew, and an unchanged one sends nothing.
 * Thread-safe: reloads (the watcher's thread), reweighs (the weigher's) and refreshes take turns.
 */
final class PolicyReloader {
    private static final System.Logger LOG = System.getLogger(PolicyReloader.class.getName());

    private final Path directory;
    private final EnvoyTranslator translator;
    private final SnapshotHub hub;
    private final XdsMetrics metrics;
    private final Consumer<PolicySet> onApplied;
    private final BiFunction<String, PolicySet, PolicySet> adjust;
    private volatile PolicyStatus status = PolicyStatus.initial();
    /** The policies being served, or null before the first good load. Guarded by this. */
    private PolicySet serving;
    /** Guarded by this. */
    private EndpointWeights weights = EndpointWeights.NONE;
    /** Where each served resource is written (file:line:col), for aimesh explain. */
    private volatile Map<String, io.aimesh.policy.Location> sources = Map.of();

    /**
     * @param adjust what each namespace's policies become before they compile (the running
     *     rollouts' weights in place of the routes' own)
     * @param onApplied told of every policy set that was loaded and compiled, served or unchanged
     */
    PolicyReloader(Path directory, EnvoyTranslator translator, SnapshotHub hub, XdsMetrics metrics,
                   BiFunction<String, PolicySet, PolicySet> adjust, Consumer<PolicySet> onApplied) {
        this.adjust = adjust;
        this.directory = directory;
        this.translator = translator;
        this.hub = hub;
        this.metrics = metrics;
        this.onApplied = onApplied;
    }

    PolicyStatus status() {
        return status;
    }

    /** Where each resource of the served policies is written, by {@link io.aimesh.policy.LoadResult#sourceKey}. */
    Map<String, io.aimesh.policy.Location> sources() {
        return sources;
    }

    synchronized void reload() {
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
        Map<String, XdsSnapshot> scopes;
        try {
            scopes = translate(result.policies());
        } catch (TranslationException e) {
            reject(List.of(e.getMessage()));
            return;
        }
        serving = result.policies();
        sources = result.sources();
        onApplied.accept(serving);
        if (versions(hub.currentScopes()).equals(versions(scopes))) {
            metrics.reload("unchanged");
            status = status.lastRejected() == null ? status : status.applied(hub.currentVersion());
            return;
        }
        hub.publish(scopes);
        status = status.applied(hub.currentVersion());
        metrics.reload("applied");
        LOG.log(Level.INFO, "policies applied: " + result.policies() + ", config version " + hub.currentVersion());
    }

    /** One snapshot per namespace of {@code policies}: a node is sent its own namespace's only. */
    private Map<String, XdsSnapshot> translate(PolicySet policies) throws TranslationException {
        Map<String, XdsSnapshot> scopes = new TreeMap<>();
        for (String namespace : policies.namespaces()) {
            scopes.put(namespace, translator.translate(adjust.apply(namespace, policies.scope(namespace)), weights));
        }
        return scopes;
    }

    private static Map<String, String> versions(Map<String, XdsSnapshot> scopes) {
        Map<String, String> versions = new TreeMap<>();
        scopes.forEach((scope, snapshot) -> versions.put(scope, snapshot.version()));
        return versions;
    }

    /** Serves the current policies with {@code next} as the EDS weights; only the weighted pools' EDS resources change. */
    synchronized void reweigh(EndpointWeights next) {
        weights = next;
        refresh();
    }

    /** Compiles the served policies again: publishes only what changed, such as a name's new addresses. */
    synchronized void refresh() {
        if (serving == null) {
            return;
        }
        try {
            Map<String, XdsSnapshot> scopes = translate(serving);
            if (!versions(hub.currentScopes()).equals(versions(scopes))) {
                hub.publish(scopes);
                status = status.reserved(hub.currentVersion());
            }
        } catch (TranslationException e) {
            // The same policies compiled before; a host that stopped resolving fails here, and the
            // last snapshot, with its last addresses, keeps serving.
            metrics.refreshFailed();
            LOG.log(Level.WARNING, "cannot recompile the served policies: " + e.getMessage());
        }
    }

    private void reject(List<String> errors) {
        status = status.rejected(errors);
        metrics.reload("rejected");
        String serving = status.servingVersion() == null ? "nothing is served yet" : "still serving " + status.servingVersion();
        LOG.log(Level.WARNING, "policies rejected (" + serving + "), " + errors.size() + " error(s):\n  "
                + String.join("\n  ", errors));
    }
}
