package io.aimesh.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The flags of a node (Envoy, the ai-filter) that connects to the control plane over mutual TLS. */
final class XdsClientTlsOptions {
    @Option(names = "--xds-tls-cert", paramLabel = "PEM",
            description = "Connect to the control plane over mutual TLS with this client certificate (with --xds-tls-key "
                    + "and --xds-tls-ca); its SPIFFE ID's namespace must be the --namespace asked for.")
    Path cert;

    @Option(names = "--xds-tls-key", paramLabel = "PEM", description = "The private key of --xds-tls-cert (PKCS#8).")
    Path key;

    @Option(names = "--xds-tls-ca", paramLabel = "PEM", description = "The CA that signs the control plane's certificate.")
    Path ca;

    /** Whether mutual TLS was asked for. */
    boolean given() {
        return cert != null || key != null || ca != null;
    }

    /** Whether all three files were given. */
    boolean complete() {
        return cert != null && key != null && ca != null;
    }
}
