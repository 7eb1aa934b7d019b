package io.aimesh.cli;

import io.aimesh.xds.EnvoyBootstrap;
import io.aimesh.xds.XdsTls;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "envoy-bootstrap", mixinStandardHelpOptions = true,
        description = "Print an Envoy bootstrap (YAML) pointing a sidecar or gateway at the control plane.")
final class EnvoyBootstrapCommand implements Callable<Integer> {
    @Option(names = "--node-id", required = true, description = "The node id Envoy presents.")
    String nodeId;

    @Option(names = "--cluster", defaultValue = "aimesh-gateway", description = "The node's cluster (default: ${DEFAULT-VALUE}).")
    String cluster;

    @Option(names = "--xds", defaultValue = "127.0.0.1:18000", paramLabel = "HOST:PORT",
            description = "The control plane's ADS address (default: ${DEFAULT-VALUE}).")
    String xds;

    @Option(names = "--admin-port", defaultValue = "9901", description = "Envoy's admin port on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    int adminPort;

    @Option(names = "--delta", description = "Use incremental (delta) ADS.")
    boolean delta;

    @Option(names = "--namespace", paramLabel = "NAME",
            description = "The config scope to ask for (node metadata aimesh.io/namespace); the default scope without it.")
    String namespace;

    @Mixin
    XdsClientTlsOptions tls = new XdsClientTlsOptions();

    @Override
    public Integer call() {
        int colon = xds.lastIndexOf(':');
        if (colon <= 0) {
            System.err.println("--xds: '" + xds + "' (expected: HOST:PORT)");
            return 2;
        }
        String host = xds.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(xds.substring(colon + 1));
        } catch (NumberFormatException e) {
            System.err.println("--xds: '" + xds + "' has no numeric port (expected: HOST:PORT)");
            return 2;
        }
        EnvoyBootstrap bootstrap = new EnvoyBootstrap(nodeId, cluster, host, port, "127.0.0.1", adminPort, delta)
                .withNamespace(namespace);
        if (tls.given()) {
            if (!tls.complete()) {
                System.err.println("mutual TLS needs all of --xds-tls-cert, --xds-tls-key and --xds-tls-ca");
                return 2;
            }
            bootstrap = bootstrap.withTls(new XdsTls(tls.cert.toAbsolutePath(), tls.key.toAbsolutePath(), tls.ca.toAbsolutePath()));
        }
        System.out.print(bootstrap.yaml());
        return 0;
    }
}
