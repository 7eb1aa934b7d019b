package io.aimesh.xds;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * Mutual TLS on the xDS connection, from PEM files: one side's certificate chain and private key,
 * and the CA that must have signed the other side's certificate. On the control plane the CA signs
 * the nodes' client certificates, which it requires; on a node it signs the control plane's.
 *
 * @param certificateChain this side's certificate chain
 * @param privateKey this side's private key (PKCS#8, unencrypted)
 * @param trustedCa the CA certificates the other side's certificate must chain to
 */
public record XdsTls(Path certificateChain, Path privateKey, Path trustedCa) {
    public XdsTls {
        requireNonNull(certificateChain, "certificateChain");
        requireNonNull(privateKey, "privateKey");
        requireNonNull(trustedCa, "trustedCa");
    }
}
