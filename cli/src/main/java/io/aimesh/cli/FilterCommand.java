package io.aimesh.cli;

import io.aimesh.filter.AiFilter;
import io.aimesh.filter.AiFilterOptions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "filter", mixinStandardHelpOptions = true,
        description = {"Run the ai-filter: Envoy's external processor for AI traffic (body routing, tenants, token limits).",
                "It takes its configuration from the control plane over ADS."})
final class FilterCommand implements Callable<Integer> {
    @Option(names = "--control-plane", defaultValue = "127.0.0.1:18000", paramLabel = "HOST:PORT",
            description = "The control plane's ADS address (default: ${DEFAULT-VALUE}).")
    String controlPlane;

    @Option(names = "--grpc-port", defaultValue = "18080", description = "ext_proc gRPC port (default: ${DEFAULT-VALUE}).")
    int grpcPort;

    @Option(names = "--grpc-address", defaultValue = "127.0.0.1", description = "ext_proc bind address (default: ${DEFAULT-VALUE}).")
    String grpcAddress;

    @Option(names = "--admin-port", defaultValue = "19080", description = "Admin HTTP port (default: ${DEFAULT-VALUE}).")
    int adminPort;

    @Option(names = "--admin-address", defaultValue = "127.0.0.1", description = "Admin bind address (default: ${DEFAULT-VALUE}).")
    String adminAddress;

    @Option(names = "--node-id", description = "Node id presented to the control plane (default: aimesh-filter-HOSTNAME-PID).")
    String nodeId;

    @Option(names = "--namespace", paramLabel = "NAME",
            description = "The config scope to ask for (node metadata aimesh.io/namespace); the default scope without it.")
    String namespace;

    @Option(names = "--spend-dir", paramLabel = "DIR",
            description = "Where spend budgets are journaled, so a restart loses no spend (a volume of its own in "
                    + "Kubernetes); in memory without it.")
    java.nio.file.Path spendDir;

    @Mixin
    XdsClientTlsOptions tls = new XdsClientTlsOptions();

    @Override
    public Integer call() throws Exception {
        String id = nodeId != null ? nodeId
                : "aimesh-filter-" + java.net.InetAddress.getLocalHost().getHostName() + "-" + ProcessHandle.current().pid();
        AiFilterOptions options = new AiFilterOptions(controlPlane, id, grpcAddress, grpcPort, adminAddress, adminPort)
                .withNamespace(namespace).withSpendDirectory(spendDir);
        if (tls.given()) {
            if (!tls.complete()) {
                System.err.println("aimesh filter: mutual TLS needs all of --xds-tls-cert, --xds-tls-key and --xds-tls-ca");
                return 2;
            }
            options = options.withXdsTls(new AiFilterOptions.XdsClientTls(tls.cert, tls.key, tls.ca));
        }
        Shutdown shutdown = new Shutdown();
        try (AiFilter filter = AiFilter.start(options)) {
            System.out.println("aimesh filter: ext_proc on " + grpcAddress + ":" + filter.grpcPort() + ", admin on http://"
                    + adminAddress + ":" + filter.adminPort() + ", config from " + controlPlane + "  (Ctrl-C stops)");
            shutdown.awaitRequest();
        } finally {
            shutdown.done();
        }
        return 0;
    }
}
