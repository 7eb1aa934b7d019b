package io.aimesh.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the control plane exposes: ADS stays on loopback unless mutual TLS guards it, and its admin
 * pages never show a Redis password.
 */
final class ControlPlaneExposureTest {
    @TempDir
    Path policies;

    @Test
    void defaults_bindAdsToLoopback() {
        ControlPlaneOptions options = ControlPlaneOptions.defaults(policies);

        assertThat(options.xdsAddress()).isEqualTo("127.0.0.1");
        assertThatCode(options::checkXdsExposure).doesNotThrowAnyException();
    }

    @Test
    void plaintextAdsOffLoopback_isRefusedAtStart() {
        for (String address : new String[] {"0.0.0.0", "::", "192.0.2.1"}) {
            ControlPlaneOptions options = ControlPlaneOptions.defaults(policies).withXds(address, 0);

            assertThatThrownBy(() -> ControlPlane.start(options)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("ADS on " + address + " without mutual TLS")
                    .hasMessageContaining("--xds-tls-cert");
        }
    }

    @Test
    void adsOffLoopback_withMutualTls_passesTheCheck() {
        ControlPlaneOptions options = ControlPlaneOptions.defaults(policies).withXds("0.0.0.0", 0)
                .withXdsTls(new XdsTls(Path.of("cert.pem"), Path.of("key.pem"), Path.of("ca.pem")));

        assertThatCode(options::checkXdsExposure).doesNotThrowAnyException();
    }

    @Test
    void configDump_rendersEveryResource_andShowsTheRedisUriWithoutItsPassword() throws Exception {
        Files.writeString(policies.resolve("gateway.yaml"), """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  filter: {address: "127.0.0.1:18080"}
                  globalLimits: {redis: "redis://default:hunter2@127.0.0.1:6379"}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: picked}
                spec:
                  endpoints: ["127.0.0.1:8000"]
                  balancing: {mode: picker}
                """);
        try (ControlPlane controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(policies)
                .withXds("127.0.0.1", 0).withAdmin("127.0.0.1", 0))) {
            String dump = get(controlPlane.adminPort(), "/config_dump");

            assertThat(dump).contains("redis://****@127.0.0.1:6379").doesNotContain("hunter2");
        }
    }

    private static String get(int port, String path) throws IOException, InterruptedException {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
