package io.aimesh.cli;

import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import io.aimesh.xds.XdsTls;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "control-plane", mixinStandardHelpOptions = true,
        description = "Serve the policies to Envoy over ADS (state-of-the-world and delta) and watch them for edits.")
final class ControlPlaneCommand implements Callable<Integer> {
    @Option(names = "--policies", required = true, paramLabel = "DIR", description = "The policy directory.")
    Path policies;

    @Option(names = "--xds-port", defaultValue = "18000", description = "ADS gRPC port (default: ${DEFAULT-VALUE}).")
    int xdsPort;

    @Option(names = "--xds-address", defaultValue = "127.0.0.1",
            description = "ADS bind address (default: ${DEFAULT-VALUE}); any other address needs --xds-tls-*, since ADS "
                    + "carries the tenants' key digests and the Redis URI.")
    String xdsAddress;

    @Option(names = "--admin-port", defaultValue = "19000", description = "Admin HTTP port (default: ${DEFAULT-VALUE}).")
    int adminPort;

    @Option(names = "--admin-address", defaultValue = "127.0.0.1",
            description = "Admin bind address (default: ${DEFAULT-VALUE}; the admin pages show the whole config).")
    String adminAddress;

    @Option(names = "--listener-port", defaultValue = "10000",
            description = "The port Envoy's HTTP listener gets (default: ${DEFAULT-VALUE}).")
    int listenerPort;

    @Option(names = "--listener-address", defaultValue = "0.0.0.0",
            description = "The address Envoy's HTTP listener binds (default: ${DEFAULT-VALUE}).")
    String listenerAddress;

    @Option(names = "--endpoint-refresh-ms", defaultValue = "5000", paramLabel = "MS",
            description = "How often the pools' endpoint names are resolved again (a headless Service follows its pods); "
                    + "default: ${DEFAULT-VALUE}.")
    long endpointRefreshMs;

    @Option(names = "--rollout-state", paramLabel = "FILE",
            description = "Keep the rollouts' state in this file, so a restart goes on where it was; without it the "
                    + "state is in memory only.")
    Path rolloutState;

    @Option(names = "--admin-token-file", paramLabel = "FILE",
            description = "A file holding the token the admin pages (dashboard, /nodes, /config_dump, /rollouts) then require,"
                    + " as authorization: Bearer or ?token=; /healthz, /readyz and /metrics stay open. Needed for the"
                    + " dashboard when --admin-address is not loopback.")
    Path adminTokenFile;

    @Option(names = "--xds-tls-cert", paramLabel = "PEM",
            description = "Serve ADS over mutual TLS with this certificate chain (with --xds-tls-key and --xds-tls-client-ca).")
    Path tlsCert;

    @Option(names = "--xds-tls-key", paramLabel = "PEM", description = "The private key of --xds-tls-cert (PKCS#8).")
    Path tlsKey;

    @Option(names = "--xds-tls-client-ca", paramLabel = "PEM",
            description = "The CA that signs the nodes' client certificates; their SPIFFE ID's namespace must be the "
                    + "scope a node names in its metadata.")
    Path tlsClientCa;

    @Override
    public Integer call() throws Exception {
        if (endpointRefreshMs <= 0) {
            System.err.println("aimesh control-plane: --endpoint-refresh-ms: " + endpointRefreshMs + " (expected: > 0)");
            return 2;
        }
        ControlPlaneOptions options = ControlPlaneOptions.defaults(policies)
                .withXds(xdsAddress, xdsPort)
                .withAdmin(adminAddress, adminPort)
                .withListener(listenerAddress, listenerPort)
                .withEndpointRefresh(java.time.Duration.ofMillis(endpointRefreshMs))
                .withRolloutState(rolloutState)
                .withAdminTokenFile(adminTokenFile);
        if (tlsCert != null || tlsKey != null || tlsClientCa != null) {
            if (tlsCert == null || tlsKey == null || tlsClientCa == null) {
                System.err.println("aimesh control-plane: mutual TLS needs all of --xds-tls-cert, --xds-tls-key and --xds-tls-client-ca");
                return 2;
            }
            options = options.withXdsTls(new XdsTls(tlsCert, tlsKey, tlsClientCa));
        }
        try {
            options.checkXdsExposure();
        } catch (IllegalArgumentException e) {
            System.err.println("aimesh control-plane: " + e.getMessage());
            return 2;
        }
        Shutdown shutdown = new Shutdown();
        try (ControlPlane controlPlane = ControlPlane.start(options)) {
            System.out.println("aimesh control plane: ADS on " + xdsAddress + ":" + controlPlane.xdsPort()
                    + ", admin on http://" + adminAddress + ":" + controlPlane.adminPort() + "  (Ctrl-C stops)");
            shutdown.awaitRequest();
        } finally {
            shutdown.done();
        }
        return 0;
    }
}
