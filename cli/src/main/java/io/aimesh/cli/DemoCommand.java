package io.aimesh.cli;

import io.aimesh.filter.AiFilter;
import io.aimesh.filter.AiFilterOptions;
import io.aimesh.internal.EnvoyBinary;
import io.aimesh.internal.EnvoyProcess;
import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.policy.Endpoint;
import io.aimesh.policy.Gateway;
import io.aimesh.policy.LoadResult;
import io.aimesh.policy.ModelRoute;
import io.aimesh.policy.ModelVersion;
import io.aimesh.policy.PolicyLoader;
import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import io.aimesh.xds.EnvoyBootstrap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The demo: the example policies served by the control plane to a real Envoy in front of a
 * model-sim per pool endpoint, with a client sending through Envoy and a live summary of who
 * served what. Edits to the demo's copy of the policies take effect live.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run aimesh end to end on the example policies: control plane, one model-sim per endpoint",
                "(two versions of one model, unequal speeds), a real Envoy, a stream of requests and a live summary.",
                "Edit the copied policies (path printed at start) to change the split live; Ctrl-C stops everything."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--policies", defaultValue = "policies/examples", description = "Policies to start from (default: ${DEFAULT-VALUE}).")
    Path policies;

    @Option(names = "--work-dir", defaultValue = ".aimesh", description = "Where the demo keeps its files (default: ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(names = "--listener-port", defaultValue = "10000", description = "Envoy's HTTP port (default: ${DEFAULT-VALUE}).")
    int listenerPort;

    @Option(names = "--xds-port", defaultValue = "18000", description = "Control plane ADS port (default: ${DEFAULT-VALUE}).")
    int xdsPort;

    @Option(names = "--admin-port", defaultValue = "19000", description = "Control plane admin port (default: ${DEFAULT-VALUE}).")
    int adminPort;

    @Option(names = "--envoy-admin-port", defaultValue = "9901", description = "Envoy's admin port (default: ${DEFAULT-VALUE}).")
    int envoyAdminPort;

    @Option(names = "--filter-admin-port", defaultValue = "19080",
            description = "The ai-filter's admin port (default: ${DEFAULT-VALUE}); its ext_proc address comes from the Gateway policy.")
    int filterAdminPort;

    @Option(names = "--concurrency", defaultValue = "8", description = "Concurrent client requests (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--max-tokens", defaultValue = "24", description = "max_tokens per request (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--interval", defaultValue = "5", description = "Seconds between summaries (default: ${DEFAULT-VALUE}).")
    int interval;

    @Option(names = "--shift-after", defaultValue = "20",
            description = "Seconds after which the demo itself edits the route to 50/50, to show a live change; 0 never "
                    + "(default: ${DEFAULT-VALUE}).")
    int shiftAfter;

    @Option(names = "--duration", defaultValue = "0", description = "Stop after this many seconds; 0 runs until Ctrl-C.")
    int duration;

    /** The demo keys of the example tenants (tenants.yaml holds only their SHA-256 digests). */
    private static final java.util.Map<String, String> DEMO_KEYS = java.util.Map.of("acme", "acme-demo-key", "globex", "globex-demo-key");

    private final List<AutoCloseable> running = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Path demoPolicies = workDir.resolve("demo-policies").toAbsolutePath();
        copyPolicies(demoPolicies);
        LoadResult loaded = PolicyLoader.loadDirectory(demoPolicies);
        if (!loaded.ok()) {
            loaded.errors().forEach(e -> System.err.println(e));
            return 1;
        }
        ModelRoute route = loaded.policies().routes().get(0);
        Path envoyBinary = EnvoyBinary.locate(line -> System.out.println("demo: " + line));
        CountDownLatch stop = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            shutdown();
        }, "aimesh-demo-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            startModelSims(loaded, route);
            ControlPlane controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(demoPolicies)
                    .withXds("127.0.0.1", xdsPort).withAdmin("127.0.0.1", adminPort).withListener("127.0.0.1", listenerPort));
            running.add(controlPlane);
            startFilter(loaded);
            List<DemoLoad.Client> clients = clients(loaded);
            EnvoyProcess envoy = startEnvoy(envoyBinary);
            waitForRoute(envoy, route.model(), clients.get(0));
            printWelcome(route, demoPolicies, clients.get(0));
            return runLoad(route, demoPolicies, clients, stop);
        } finally {
            if (Thread.currentThread() != hook) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running and cleans up
                }
                shutdown();
            }
        }
    }

    private void copyPolicies(Path target) throws IOException {
        Files.createDirectories(target);
        try (Stream<Path> files = Files.list(policies)) {
            for (Path file : files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).toList()) {
                Files.copy(file, target.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** One model-sim per pool endpoint; the second instance of each pool runs at 60% speed, so the fleet is uneven. */
    private void startModelSims(LoadResult loaded, ModelRoute route) throws IOException {
        long seed = 1;
        for (ModelVersion version : route.versions()) {
            List<Endpoint> endpoints = loaded.policies().pool(version.pool()).endpoints();
            for (int i = 0; i < endpoints.size(); i++) {
                Endpoint endpoint = endpoints.get(i);
                ModelSimServer sim = ModelSimServer.start(ModelSimConfig.builder().host(endpoint.host()).port(endpoint.port())
                        .model(route.model()).version(version.name()).speed(i == 0 ? 1.0 : 0.6).seed(seed++).build());
                running.add(sim);
                System.out.printf("demo: model-sim %s %s on %s (speed %.1f)%n", route.model(), version.name(),
                        sim.instanceName(), i == 0 ? 1.0 : 0.6);
            }
        }
    }

    /** Starts the ai-filter where the Gateway policy says it listens, if the policies put one in the path. */
    private void startFilter(LoadResult loaded) throws IOException {
        Gateway gateway = loaded.policies().gateway();
        if (gateway == null || gateway.filter() == null) {
            return;
        }
        Endpoint address = gateway.filter().address();
        AiFilter filter = AiFilter.start(new AiFilterOptions("127.0.0.1:" + xdsPort, "aimesh-demo-filter", address.host(),
                address.port(), "127.0.0.1", filterAdminPort));
        running.add(filter);
        System.out.println("demo: ai-filter on " + address + " (admin http://127.0.0.1:" + filter.adminPort() + "/metrics)");
    }

    /**
     * The demo's tenants: with the example policies, acme sends most of the load and globex,
     * whose output-token budget is small, sends longer requests and meets its limit. The keys
     * are the ones whose digests the example tenants.yaml holds.
     */
    private List<DemoLoad.Client> clients(LoadResult loaded) {
        if (loaded.policies().tenants().isEmpty()) {
            return List.of(new DemoLoad.Client("anonymous", null, concurrency, maxTokens));
        }
        int globex = Math.max(1, concurrency / 4);
        return List.of(new DemoLoad.Client("acme", DEMO_KEYS.get("acme"), concurrency - globex, maxTokens),
                new DemoLoad.Client("globex", DEMO_KEYS.get("globex"), globex, maxTokens * 4));
    }

    private EnvoyProcess startEnvoy(Path binary) throws IOException, InterruptedException {
        Path dir = workDir.resolve("demo").toAbsolutePath();
        Files.createDirectories(dir);
        Path bootstrap = dir.resolve("envoy-bootstrap.yaml");
        Files.writeString(bootstrap, new EnvoyBootstrap("aimesh-demo", "aimesh-demo", "127.0.0.1", xdsPort, "127.0.0.1",
                envoyAdminPort, false).yaml());
        Path log = dir.resolve("envoy.log");
        EnvoyProcess envoy = EnvoyProcess.start(binary, bootstrap, log, 2, "warning");
        running.add(envoy);
        System.out.println("demo: Envoy " + binary + " started (log: " + log + ")");
        return envoy;
    }

    private void waitForRoute(EnvoyProcess envoy, String model, DemoLoad.Client client) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        DemoLoad probe = new DemoLoad(listenerPort, model, List.of());
        while (!probe.probe(client)) {
            if (!envoy.isAlive()) {
                throw new IllegalStateException("Envoy exited; the end of " + envoy.log() + ":\n" + envoy.logTail(20));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Envoy did not route " + model + " within 30 s; see "
                        + workDir.resolve("demo/envoy.log") + " and http://127.0.0.1:" + adminPort + "/nodes");
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
    }

    private void printWelcome(ModelRoute route, Path demoPolicies, DemoLoad.Client client) {
        String auth = client.apiKey() == null ? "" : "-H 'authorization: Bearer " + client.apiKey() + "' ";
        System.out.printf("""

                demo: Envoy listens on http://127.0.0.1:%1$d and routes by the request's model. Try:
                  curl -s http://127.0.0.1:%1$d/v1/chat/completions %6$s-H 'content-type: application/json' \\
                    -d '{"model":"%2$s","messages":[{"role":"user","content":"hello"}]}' -D -
                  (add -H 'x-aimesh-version: v2' to force the canary)
                demo: edit %3$s/routes.yaml to change the weights live.
                demo: dashboard http://127.0.0.1:%4$d/  (also /nodes  /config_dump  /metrics; bin/aimesh status --admin http://127.0.0.1:%4$d)
                demo: Envoy admin http://127.0.0.1:%5$d
                """, listenerPort, route.model(), demoPolicies, adminPort, envoyAdminPort, auth);
    }

    private int runLoad(ModelRoute route, Path demoPolicies, List<DemoLoad.Client> clients, CountDownLatch stop)
            throws Exception {
        DemoLoad load = new DemoLoad(listenerPort, route.model(), clients);
        running.add(0, load);
        load.start();
        long started = System.nanoTime();
        boolean shifted = false;
        while (!stop.await(interval, TimeUnit.SECONDS)) {
            double elapsed = (System.nanoTime() - started) / 1e9;
            load.printSummary(System.out, interval);
            if (!shifted && shiftAfter > 0 && elapsed >= shiftAfter && route.versions().size() == 2) {
                shifted = true;
                RouteEditor.setWeights(demoPolicies.resolve("routes.yaml"), 50, 50);
                System.out.println("\ndemo: edited routes.yaml: " + route.versions().get(0).name() + "=50 "
                        + route.versions().get(1).name() + "=50; watch the share move");
            }
            if (duration > 0 && elapsed >= duration) {
                break;
            }
        }
        load.close();
        System.out.printf("%ndemo: done, %d requests succeeded, %d rate limited (429), %d failed%n", load.succeeded(),
                load.limited(), load.failed());
        if (load.succeeded() == 0) {
            System.out.println("demo: no request succeeded");
            return 3;
        }
        return load.failed() == 0 ? 0 : 3;
    }

    private synchronized void shutdown() {
        for (AutoCloseable closeable : running) {
            try {
                closeable.close();
            } catch (Exception e) {
                System.err.println("demo: while stopping: " + e);
            }
        }
        running.clear();
    }
}
