package io.aimesh.testing;

import io.aimesh.xds.XdsTls;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway CA and certificates it signs, as PEM files, made with the JDK's keytool (always
 * there, unlike openssl): the private keys are read back from keytool's PKCS#12 stores and written
 * as PKCS#8 PEM.
 */
public final class TestCertificates {
    private static final String PASSWORD = "changeit";

    private final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** Makes a CA in a new temporary directory; its certificate is {@link #ca()}. */
    public static TestCertificates create() throws IOException {
        TestCertificates certificates = new TestCertificates(Files.createTempDirectory("aimesh-tls-"));
        certificates.keytool("-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=aimesh test CA",
                "-ext", "bc:c", "-validity", "2", "-keystore", "ca.p12", "-storetype", "PKCS12", "-storepass", PASSWORD);
        certificates.keytool("-exportcert", "-alias", "ca", "-keystore", "ca.p12", "-storepass", PASSWORD, "-rfc",
                "-file", "ca.pem");
        return certificates;
    }

    public Path ca() {
        return dir.resolve("ca.pem");
    }

    /**
     * A certificate signed by the CA, with the subject alternative names {@code san} (keytool's
     * syntax, e.g. {@code uri:spiffe://cluster.local/ns/team-a/sa/gateway,ip:127.0.0.1}).
     *
     * @return its chain and key, trusting the CA
     */
    public XdsTls issue(String name, String san) throws IOException {
        String store = name + ".p12";
        keytool("-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=" + name, "-validity", "2",
                "-keystore", store, "-storetype", "PKCS12", "-storepass", PASSWORD);
        keytool("-certreq", "-alias", name, "-keystore", store, "-storepass", PASSWORD, "-file", name + ".csr");
        keytool("-gencert", "-alias", "ca", "-keystore", "ca.p12", "-storepass", PASSWORD, "-infile", name + ".csr",
                "-outfile", name + ".pem", "-rfc", "-validity", "2", "-ext", "san=" + san);
        try (InputStream in = Files.newInputStream(dir.resolve(store))) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(in, PASSWORD.toCharArray());
            PrivateKey key = (PrivateKey) keys.getKey(name, PASSWORD.toCharArray());
            Files.writeString(dir.resolve(name + "-key.pem"), "-----BEGIN PRIVATE KEY-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read the key of " + name, e);
        }
        return new XdsTls(dir.resolve(name + ".pem"), dir.resolve(name + "-key.pem"), ca());
    }

    private void keytool(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        try {
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException("keytool " + String.join(" ", args) + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
