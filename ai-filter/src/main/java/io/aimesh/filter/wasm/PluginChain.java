package io.aimesh.filter.wasm;

import io.aimesh.filter.api.PluginPhase;
import io.aimesh.filter.api.Sha256;
import io.aimesh.filter.api.WasmPluginConfig;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The proxy-wasm plugins of the current config, loaded: each module read from its file, checked
 * against its digest and compiled once ({@link WasmPlugin}). A plugin whose name, digest and
 * configuration are unchanged is kept across configs (its instances and metrics with it); a changed
 * or removed one is closed a minute later, so requests in flight finish on it. A module that cannot
 * be read, has another digest or does not load stays in the chain as broken: the requests it applies
 * to fail or pass per its failure mode, and the reason is logged once.
 *
 * <p>Thread-safe: {@link #configure} runs on the config thread, {@link #current} on request threads.
 */
public final class PluginChain implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PluginChain.class.getName());
    private static final long RETIRE_AFTER_SECONDS = 60;

    /**
     * A plugin of the chain: loaded, or broken with the reason.
     *
     * @param plugin the loaded plugin, or {@code null} when {@code broken} says why not
     * @param tenants the tenants it runs for; empty for every request
     * @param models the models (as clients name them) it runs for; empty for every request
     * @param phases the phases it runs in
     */
    public record Link(String name, WasmPlugin plugin, String broken, boolean failOpen, Set<String> tenants, Set<String> models,
                       Set<PluginPhase> phases) {
        /** Whether it runs on a request of {@code tenant} ({@code null}: unidentified) for {@code model} ({@code null}: unknown). */
        public boolean appliesTo(String tenant, String model) {
            return (tenants.isEmpty() || tenant != null && tenants.contains(tenant))
                    && (models.isEmpty() || model != null && models.contains(model));
        }

        /** Whether it runs on the response (either response phase). */
        public boolean onResponse() {
            return phases.contains(PluginPhase.PLUGIN_PHASE_RESPONSE_HEADERS) || phases.contains(PluginPhase.PLUGIN_PHASE_RESPONSE_BODY);
        }
    }

    private final WasmPlugin.Engine engine;
    private volatile List<Link> links = List.of();
    /** Loaded plugins by name, digest and configuration: what a new config may reuse. Guarded by this. */
    private final Map<String, WasmPlugin> loaded = new HashMap<>();
    private final ScheduledExecutorService retirer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "aimesh-plugin-retirer");
        thread.setDaemon(true);
        return thread;
    });

    public PluginChain(WasmPlugin.Engine engine) {
        this.engine = engine;
    }

    /** The chain requests run through now, in order; empty without plugins. */
    public List<Link> current() {
        return links;
    }

    /** Makes {@code plugins} the chain: loads what is new (seconds per module to compile), keeps what is unchanged. */
    public synchronized void configure(List<WasmPluginConfig> plugins) {
        Map<String, WasmPlugin> next = new HashMap<>();
        List<Link> chain = new ArrayList<>();
        for (WasmPluginConfig config : plugins) {
            String key = config.getName() + "\u0000" + config.getSha256() + "\u0000" + config.getConfiguration() + "\u0000"
                    + config.getTimeoutMs() + "\u0000" + config.getMemoryLimitBytes();
            WasmPlugin plugin = loaded.get(key);
            String broken = null;
            if (plugin == null) {
                try {
                    plugin = load(config);
                    LOG.log(Level.INFO, "plugin " + config.getName() + " loaded from " + config.getFile() + " (" + engine + ")");
                } catch (IOException | RuntimeException e) {
                    broken = e.getMessage();
                    LOG.log(Level.ERROR, "plugin " + config.getName() + " not loaded: " + broken + "; requests it applies to "
                            + (config.getFailOpen() ? "go on without it" : "are refused (500)"));
                }
            }
            if (plugin != null) {
                next.put(key, plugin);
            }
            Set<PluginPhase> phases = config.getPhasesList().isEmpty()
                    ? java.util.EnumSet.of(PluginPhase.PLUGIN_PHASE_REQUEST_HEADERS, PluginPhase.PLUGIN_PHASE_REQUEST_BODY,
                            PluginPhase.PLUGIN_PHASE_RESPONSE_HEADERS, PluginPhase.PLUGIN_PHASE_RESPONSE_BODY)
                    : java.util.EnumSet.copyOf(config.getPhasesList());
            chain.add(new Link(config.getName(), plugin, broken, config.getFailOpen(), Set.copyOf(config.getTenantsList()),
                    Set.copyOf(config.getModelsList()), java.util.Collections.unmodifiableSet(phases)));
        }
        links = List.copyOf(chain);
        loaded.forEach((key, plugin) -> {
            if (!next.containsKey(key)) {
                retirer.schedule(plugin::close, RETIRE_AFTER_SECONDS, TimeUnit.SECONDS);
            }
        });
        loaded.clear();
        loaded.putAll(next);
    }

    private WasmPlugin load(WasmPluginConfig config) throws IOException {
        byte[] module = Files.readAllBytes(Path.of(config.getFile()));
        String digest = Sha256.hex(module);
        if (!digest.equals(config.getSha256())) {
            throw new IOException(config.getFile() + " has digest sha256:" + digest + ", not sha256:" + config.getSha256());
        }
        return WasmPlugin.load(config.getName(), module, config.getConfiguration(), engine,
                java.time.Duration.ofMillis(config.getTimeoutMs()),
                config.getMemoryLimitBytes() > 0 ? config.getMemoryLimitBytes() : WasmPlugin.DEFAULT_MEMORY_BYTES);
    }

    @Override
    public synchronized void close() {
        retirer.shutdownNow();
        loaded.values().forEach(WasmPlugin::close);
        loaded.clear();
        links = List.of();
    }
}
