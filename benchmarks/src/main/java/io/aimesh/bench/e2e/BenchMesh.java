package io.aimesh.bench.e2e;

import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.bench.FilterStack;
import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.testing.Envoy;
import io.aimesh.testing.Ports;
import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import io.aimesh.internal.ChildProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Everything the benchmark's requests pass through, started once for a whole run: one model-sim,
 * and per Envoy path a control plane of its own and an Envoy of its own on its own port, with the
 * ext_proc server in a JVM of its own beside the extproc and filter paths' Envoys (the no-op server,
 * the ai-filter). Full stacks rather than one control plane with node groups: the control plane
 * serves every node the same policies, and the envoy and filter paths must differ in exactly one
 * policy document (see {@link MeshPolicies}); the extproc path has the filter path's policies.
 *
 * <p>The model-sim answers as fast as its engine loop turns (speed 10<sup>9</sup>: a step of a
 * 1,000-token prompt takes nanoseconds; 256 sequence slots; a KV cache no request fills), so
 * that what is measured is the path, not the simulated GPU. It runs in this JVM, as do the
 * control planes (idle once configs are sent) and the load generator; the three paths share
 * them equally.
 *
 * <p>Not thread-safe: start and use from one thread; {@link #close} may also run from the shutdown
 * hook that stops the child processes when the benchmark is interrupted.
 */
final class BenchMesh implements AutoCloseable {

    private final Path workDir;
    private final List<AutoCloseable> running = new ArrayList<>();
    private final Map<DataPath, InetSocketAddress> targets = new EnumMap<>(DataPath.class);
    private final Map<DataPath, Envoy> envoys = new EnumMap<>(DataPath.class);
    /** The ext_proc servers of the extproc and filter paths. */
    private final Map<DataPath, ExtProcServerProcess> extProcServers = new EnumMap<>(DataPath.class);
    /** The peers' paths, when asked for. */
    private AiGatewayPath aigw;
    private io.aimesh.bench.LiteLlmProxy litellm;
    /** Stops the child processes (Envoys, the ext_proc JVMs) when the benchmark is interrupted, e.g. by Ctrl-C. */
    private final Thread shutdownHook = new Thread(this::close, "filter-overhead-stop");

    private BenchMesh(Path workDir) {
        this.workDir = workDir;
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Starts what {@code options.paths()} need and waits until each path answers 200. */
    static BenchMesh start(OverheadOptions options, Consumer<String> progress) throws IOException, InterruptedException {
        // Envoy keeps its upstream connections to model-sim for an hour. The JDK server under model-sim
        // would close them after 30 s idle (while the other paths run), and beyond 200 idle ones it closes
        // each connection as soon as its exchange ends: after a stall, Envoy opens hundreds at once, and
        // from then on every direct request paid a connect and some raced a close. A close racing a
        // request is a spurious error; so both limits are lifted. Read once, when the first server starts.
        setIfAbsent("sun.net.httpserver.idleInterval", "3600");
        setIfAbsent("sun.net.httpserver.maxIdleConnections", "100000");
        BenchMesh mesh = new BenchMesh(Files.createTempDirectory("aimesh-filter-overhead-"));
        try {
            mesh.startAll(options, progress);
            return mesh;
        } catch (IOException | RuntimeException | InterruptedException e) {
            progress.accept(mesh.diagnostics());
            mesh.close();
            throw e;
        }
    }

    private void startAll(OverheadOptions options, Consumer<String> progress) throws IOException, InterruptedException {
        ModelSimServer sim = ModelSimServer.start(ModelSimConfig.builder().model(ChatRequest.MODEL).speed(1e9)
                .maxSeqs(256).kvTokens(1 << 22).seed(1).build());
        running.add(sim);
        targets.put(DataPath.DIRECT, new InetSocketAddress("127.0.0.1", sim.port()));
        progress.accept("model-sim on 127.0.0.1:" + sim.port());
        if (options.paths().contains(DataPath.ENVOY)) {
            startEnvoyPath(DataPath.ENVOY, MeshPolicies.baseline(sim.port(), options.tokenizer()), null, options, progress);
        }
        for (DataPath path : List.of(DataPath.EXTPROC, DataPath.FILTER)) {
            if (options.paths().contains(path)) {
                Ports.Held grpcPort = Ports.hold();
                startEnvoyPath(path, MeshPolicies.withFilter(sim.port(), options.tokenizer(), grpcPort.port()), grpcPort,
                        options, progress);
            }
        }
        if (options.paths().contains(DataPath.PROXY)) {
            Ports.Held listener = Ports.hold();
            listener.release();
            Envoy proxy = Envoy.start(io.aimesh.testing.WasmEnvoy.bootstrap(listener.port(), sim.port(), null, ""),
                    workDir.resolve(DataPath.PROXY.id()).resolve("envoy.log"), options.envoyConcurrency(), "warning");
            running.add(proxy);
            envoys.put(DataPath.PROXY, proxy);
            targets.put(DataPath.PROXY, new InetSocketAddress("127.0.0.1", listener.port()));
            progress.accept("proxy: Envoy pid " + proxy.pid() + " on 127.0.0.1:" + listener.port());
        }
        if (options.paths().contains(DataPath.AIGW)) {
            aigw = AiGatewayPath.start(options.aigwExtproc(), workDir.resolve(DataPath.AIGW.id()), sim.port(),
                    options.envoyConcurrency());
            running.add(aigw);
            envoys.put(DataPath.AIGW, aigw.envoy());
            targets.put(DataPath.AIGW, new InetSocketAddress("127.0.0.1", aigw.listenerPort()));
            progress.accept("aigw: extproc pid " + aigw.extprocPid() + ", Envoy pid " + aigw.envoy().pid() + " on 127.0.0.1:"
                    + aigw.listenerPort() + " (" + options.envoyConcurrency() + " workers)");
        }
        if (options.paths().contains(DataPath.LITELLM)) {
            // As many workers as Envoy has: the best this machine's two cores give it.
            litellm = io.aimesh.bench.LiteLlmProxy.start(options.litellm(), workDir.resolve(DataPath.LITELLM.id()),
                    "model_list:\n" + io.aimesh.bench.LiteLlmProxy.deployment(ChatRequest.MODEL, sim.port(), List.of())
                            + "general_settings: {master_key: " + MeshPolicies.API_KEY + "}\n"
                            + "litellm_settings: {telemetry: false}\n", options.envoyConcurrency());
            running.add(litellm);
            targets.put(DataPath.LITELLM, new InetSocketAddress("127.0.0.1", litellm.chatUri().getPort()));
            progress.accept("litellm: pid " + litellm.pid() + " on " + litellm.chatUri() + " (" + options.envoyConcurrency()
                    + " workers)");
        }
        for (DataPath path : options.paths()) {
            awaitAnswer(path);
        }
    }

    /** @param filterPort the ext_proc server's port, held until it starts; {@code null} for the Envoy-only path */
    private void startEnvoyPath(DataPath path, String policies, Ports.Held filterPort, OverheadOptions options,
                                Consumer<String> progress) throws IOException, InterruptedException {
        Path dir = workDir.resolve(path.id());
        Path policyDir = Files.createDirectories(dir.resolve("policies"));
        Files.writeString(policyDir.resolve("policies.yaml"), policies);
        Ports.Held listenerPort = Ports.hold();
        running.add(listenerPort);
        ControlPlane controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(policyDir)
                .withXds("127.0.0.1", 0).withAdmin("127.0.0.1", 0).withListener("127.0.0.1", listenerPort.port()));
        running.add(controlPlane);
        if (filterPort != null) {
            running.add(filterPort);
            ExtProcServerProcess server;
            if (path == DataPath.FILTER) {
                Ports.Held adminPort = Ports.hold();
                filterPort.release();
                adminPort.release();
                server = ExtProcServerProcess.filter(dir.resolve("ext-proc.log"), controlPlane.xdsPort(), filterPort.port(),
                        adminPort.port(), options.filterJvmArgs());
            } else {
                filterPort.release();
                server = ExtProcServerProcess.noop(dir.resolve("ext-proc.log"), filterPort.port(), options.filterJvmArgs());
            }
            running.add(server);
            extProcServers.put(path, server);
            progress.accept(path.id() + ": ext_proc server pid " + server.pid() + " on 127.0.0.1:" + filterPort.port() + " "
                    + options.filterJvmArgs());
        }
        listenerPort.release();
        Envoy envoy = FilterStack.startEnvoy(dir.resolve("envoy"), "aimesh-bench-" + path.id(), controlPlane.xdsPort(),
                options.envoyConcurrency());
        running.add(envoy);
        envoys.put(path, envoy);
        targets.put(path, new InetSocketAddress("127.0.0.1", listenerPort.port()));
        progress.accept(path.id() + ": Envoy pid " + envoy.pid() + " on 127.0.0.1:" + listenerPort.port()
                + " (" + options.envoyConcurrency() + " workers), control plane ADS on " + controlPlane.xdsPort());
    }

    /** Sends the benchmark's request until the path answers 200: Envoy has its listener, routes and clusters. */
    private void awaitAnswer(DataPath path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + hostPort(path) + ChatRequest.PATH))
                .timeout(Duration.ofSeconds(5))
                .header("content-type", "application/json")
                .header("authorization", "Bearer " + MeshPolicies.API_KEY)
                .POST(HttpRequest.BodyPublishers.ofString(ChatRequest.body(1024)))
                .build();
        FilterStack.awaitOk(request, envoys.get(path), path.id());
    }

    /** Where the generator sends a path's requests. */
    InetSocketAddress target(DataPath path) {
        InetSocketAddress target = targets.get(path);
        if (target == null) {
            throw new IllegalArgumentException("path: " + path.id() + " (not started)");
        }
        return target;
    }

    /** CPU time the path's Envoy has used so far, in nanoseconds (10 ms resolution); 0 for {@link DataPath#DIRECT}. */
    long envoyCpuNanos(DataPath path) {
        Envoy envoy = envoys.get(path);
        return envoy == null ? 0 : cpuNanos(ProcessHandle.of(envoy.pid()).orElse(null));
    }

    /**
     * CPU time the path's gateway process beside Envoy (the ext_proc server; for LiteLLM, the proxy and
     * its workers) has used so far, in nanoseconds; 0 for a path without one.
     */
    long extProcCpuNanos(DataPath path) {
        if (path == DataPath.AIGW) {
            return cpuNanos(ProcessHandle.of(aigw.extprocPid()).orElse(null));
        }
        if (path == DataPath.LITELLM) {
            return litellm.cpuNanos();
        }
        ExtProcServerProcess server = extProcServers.get(path);
        return server == null ? 0 : cpuNanos(ProcessHandle.of(server.pid()).orElse(null));
    }

    /** CPU time this JVM (generator, model-sim, control planes) has used so far, in nanoseconds. */
    static long benchCpuNanos() {
        return cpuNanos(ProcessHandle.current());
    }

    /** The path's Envoy stats whose names contain {@code fragment} (see {@link Envoy#stats}); empty without that Envoy. */
    Map<String, Long> envoyStats(DataPath path, String fragment) throws IOException, InterruptedException {
        Envoy envoy = envoys.get(path);
        return envoy == null ? Map.of() : envoy.stats(fragment);
    }

    /** The last lines of every log, for a failure message. */
    String diagnostics() {
        StringBuilder text = new StringBuilder("work directory ").append(workDir);
        envoys.forEach((path, envoy) -> text.append("\n--- ").append(path.id()).append(" Envoy log:\n").append(envoy.logTail(20)));
        extProcServers.forEach((path, server) -> text.append("\n--- ").append(path.id()).append(" ext_proc server log:\n")
                .append(ChildProcess.tail(server.log(), 20)));
        if (aigw != null) {
            text.append("\n--- aigw extproc log:\n").append(aigw.logTail(20));
        }
        if (litellm != null) {
            text.append("\n--- litellm log:\n").append(ChildProcess.tail(litellm.log(), 20));
        }
        return text.toString();
    }

    /** Stops everything in reverse order of start and deletes the work directory. Idempotent. */
    @Override
    public synchronized void close() {
        if (Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to: it waits for this close to finish, then finds nothing left
            }
        }
        if (!Files.exists(workDir)) {
            return;
        }
        for (int i = running.size() - 1; i >= 0; i--) {
            try {
                running.get(i).close();
            } catch (Exception e) {
                System.err.println("filter-overhead: while stopping: " + e);
            }
        }
        running.clear();
        try (Stream<Path> files = Files.walk(workDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        } catch (IOException e) {
            System.err.println("filter-overhead: could not delete " + workDir + ": " + e);
        }
    }

    private String hostPort(DataPath path) {
        InetSocketAddress target = target(path);
        return target.getHostString() + ":" + target.getPort();
    }

    private static long cpuNanos(ProcessHandle process) {
        return process == null ? 0 : process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }

    private static void setIfAbsent(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }
}
