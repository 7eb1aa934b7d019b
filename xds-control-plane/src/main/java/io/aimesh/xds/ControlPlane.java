package io.aimesh.xds;

import static java.util.Objects.requireNonNull;

import io.aimesh.xds.admin.AdminPages;
import io.aimesh.internal.AdminServer;
import io.aimesh.xds.server.AdsService;
import io.aimesh.xds.server.CertifiedScope;
import io.grpc.ServerInterceptors;
import io.aimesh.xds.server.NodeRegistry;
import io.aimesh.xds.server.SnapshotHub;
import io.aimesh.xds.server.VersionStatsService;
import io.aimesh.xds.server.XdsMetrics;
import io.aimesh.xds.admin.RolloutPages;
import io.aimesh.xds.dashboard.DashboardPage;
import io.aimesh.xds.dashboard.DashboardView;
import io.aimesh.xds.dashboard.TrafficBoard;
import io.aimesh.xds.rollout.RolloutController;
import io.aimesh.xds.translate.EndpointWeights;
import io.aimesh.xds.translate.EnvoyTranslator;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The aimesh control plane: watches a policy directory, compiles it into Envoy
 * configuration and serves that over ADS, with an admin HTTP server beside it.
 */
public final class ControlPlane implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ControlPlane.class.getName());

    private final XdsMetrics metrics = new XdsMetrics();
    private final NodeRegistry nodes = new NodeRegistry();
    private final SnapshotHub hub = new SnapshotHub(metrics);
    private final LoadWeigher weigher;
    private final RolloutController rollouts;
    /** The dashboard's traffic, added up from the filters' reports. */
    private final TrafficBoard board = new TrafficBoard(java.time.Clock.systemUTC());
    private final PolicyReloader reloader;
    private final PolicyWatcher watcher;
    private final Server grpc;
    private final AdminServer admin;
    /**
     * Resolves the pools' endpoint names again, as Envoy's STRICT_DNS clusters do: a headless
     * Service's name follows its ready pods. Java caches a lookup for 30 s by default
     * ({@code networkaddress.cache.ttl}), which bounds how soon a change is seen.
     */
    private final java.util.concurrent.ScheduledExecutorService resolver =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "aimesh-endpoint-refresh");
                t.setDaemon(true);
                return t;
            });

    private ControlPlane(ControlPlaneOptions options) throws IOException {
        weigher = new LoadWeigher(this::reweigh);
        rollouts = RolloutController.start(options.rolloutState(), metrics.registry(), this::recompile);
        if (options.rolloutState() == null) {
            LOG.log(Level.INFO, "rollout state is kept in memory only (no --rollout-state): a restart starts rollouts over");
        }
        reloader = new PolicyReloader(options.policies(),
                new EnvoyTranslator(options.listenerAddress(), options.listenerPort()), hub, metrics, rollouts::apply,
                policies -> {
                    weigher.configure(policies);
                    rollouts.configure(policies);
                    board.configure(policies);
                });
        rollouts.onCounted(board::record);
        watcher = new PolicyWatcher(options.policies(), reloader::reload, options.debounceQuiet(), options.debounceMax());
        watcher.reloadNow();
        long refresh = options.endpointRefresh().toMillis();
        resolver.scheduleWithFixedDelay(reloader::refresh, refresh, refresh, TimeUnit.MILLISECONDS);
        NettyServerBuilder server = NettyServerBuilder.forAddress(new InetSocketAddress(options.xdsAddress(), options.xdsPort()));
        if (options.xdsTls() != null) {
            server.sslContext(CertifiedScope.serverContext(options.xdsTls()))
                    .addService(ServerInterceptors.intercept(new AdsService(hub, nodes, metrics), new CertifiedScope()))
                    .addService(ServerInterceptors.intercept(VersionStatsService.of(rollouts::report, rollouts::ack), new CertifiedScope()));
        } else {
            server.addService(new AdsService(hub, nodes, metrics))
                    .addService(VersionStatsService.of(rollouts::report, rollouts::ack));
        }
        grpc = server
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .build()
                .start();
        admin = new AdminServer(new InetSocketAddress(options.adminAddress(), options.adminPort()), metrics.registry(),
                () -> hub.currentVersion() != null,
                Map.of("/config_dump", () -> AdminPages.configDump(hub.currentScopes(), policyPage(), rollouts.statuses()),
                        "/nodes", () -> AdminPages.nodes(nodes.nodes(), hub.currentScopes(), policyPage()),
                        "/policy_sources", () -> AdminPages.sources(reloader.sources())));
        admin.route("/rollouts", (method, path) -> RolloutPages.handle(rollouts, method, path));
        if (options.adminTokenFile() != null) {
            admin.requireToken(Files.readString(options.adminTokenFile()));
        }
        boolean dashboardAllowed = options.adminTokenFile() != null || options.adminOnLoopback();
        if (!dashboardAllowed) {
            LOG.log(Level.WARNING, "the dashboard is off: the admin server binds " + options.adminAddress()
                    + " and no --admin-token-file protects it");
        }
        admin.page("/", uri -> dashboard(uri, dashboardAllowed));
        LOG.log(Level.INFO, "control plane up: ADS" + (options.xdsTls() == null ? "" : " (mutual TLS)") + " on "
                + options.xdsAddress() + ":" + grpc.getPort()
                + ", admin on http://" + options.adminAddress() + ":" + admin.port() + ", policies from " + options.policies());
    }

    /**
     * Starts a control plane: loads the policies once, then serves and watches them.
     *
     * @throws IllegalArgumentException when ADS would listen off loopback without mutual TLS
     */
    public static ControlPlane start(ControlPlaneOptions options) throws IOException {
        requireNonNull(options, "options").checkXdsExposure();
        return new ControlPlane(options);
    }

    public int xdsPort() {
        return grpc.getPort();
    }

    public int adminPort() {
        return admin.port();
    }

    /** The snapshot source; tests and embedders may publish snapshots of their own here. */
    public SnapshotHub hub() {
        return hub;
    }

    public XdsMetrics metrics() {
        return metrics;
    }

    public NodeRegistry nodes() {
        return nodes;
    }

    /** The rollouts of the served policies. */
    public RolloutController rollouts() {
        return rollouts;
    }

    public PolicyStatus policyStatus() {
        return reloader.status();
    }

    /** The dashboard ({@code /}), its tables alone ({@code /?fragment=1}) and its numbers ({@code /dashboard.json}). */
    private AdminServer.Reply dashboard(java.net.URI uri, boolean allowed) {
        String path = uri.getPath();
        if (!path.equals("/") && !path.equals("/dashboard.json")) {
            return new AdminServer.Reply(404, "{\"error\": \"no such page\"}\n");
        }
        if (!allowed) {
            return new AdminServer.Reply(403, "{\"error\": \"the dashboard needs --admin-token-file when the admin server is off"
                    + " loopback\"}\n");
        }
        Map<String, Integer> weights = new java.util.HashMap<>();
        Map<String, String> states = new java.util.HashMap<>();
        for (io.aimesh.xds.rollout.RolloutStatus status : rollouts.statuses()) {
            weights.put(status.model() + "|" + status.canary(), status.canaryWeight());
            weights.put(status.model() + "|" + status.baseline(), 100 - status.canaryWeight());
            states.put(status.model(), status.state());
        }
        DashboardView view = board.view(weights, states);
        if (path.equals("/dashboard.json")) {
            return new AdminServer.Reply(200, AdminPages.dashboard(view, nodes.nodes(), hub.currentScopes(), policyPage()));
        }
        String policy = reloader.status().lastRejected() == null ? "applied" : "REJECTED (the last good ones are served)";
        boolean fragment = AdminServer.query(uri).getOrDefault("fragment", List.of()).contains("1");
        String html = fragment ? DashboardPage.fragment(view, nodes.nodes(), hub.currentScopes(), policy)
                : DashboardPage.page(view, nodes.nodes(), hub.currentScopes(), policy);
        return new AdminServer.Reply(200, html, "text/html; charset=utf-8");
    }

    /** Rollouts ask for it when their weights move, always after the constructor (see RolloutController). */
    private void recompile() {
        reloader.refresh();
    }

    /** The weigher's first tick comes a period after the constructor, when the reloader exists. */
    private void reweigh(EndpointWeights weights) {
        reloader.reweigh(weights);
    }

    private Map<String, Object> policyPage() {
        PolicyStatus status = reloader.status();
        return AdminPages.policy(status.servingVersion(), status.servingSince(), status.lastRejected(), status.errors());
    }

    /** Stops serving; connected clients keep the config they have. */
    @Override
    public void close() throws IOException {
        watcher.close();
        rollouts.close();
        resolver.shutdownNow();
        weigher.close();
        admin.close();
        grpc.shutdownNow();
        hub.close();
        try {
            grpc.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
