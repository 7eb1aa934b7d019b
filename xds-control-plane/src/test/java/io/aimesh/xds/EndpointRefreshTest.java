package io.aimesh.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.xds.snapshot.ResourceType;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pool endpoint's name that starts to stand for more servers, or fewer (a headless Service whose
 * pods scale), is served anew without a policy edit. Names resolve from the tests' hosts file
 * (surefire's {@code jdk.net.hosts.file}, uncached), which this test edits and restores.
 */
final class EndpointRefreshTest {
    private static final String NAME = "scaling.models.svc.cluster.local";

    @TempDir
    Path policies;
    private Path hosts;
    private String original;

    @BeforeEach
    void keepHostsFile() throws Exception {
        hosts = hostsFile();
        original = Files.readString(hosts, StandardCharsets.UTF_8);
    }

    @AfterEach
    void restoreHostsFile() throws Exception {
        Files.writeString(hosts, original, StandardCharsets.UTF_8);
    }

    @Test
    void refresh_servesANamesNewAddresses_andKeepsTheLastWhenItStopsResolving() throws Exception {
        Files.writeString(hosts, original + "10.2.0.1 " + NAME + "\n", StandardCharsets.UTF_8);
        Files.writeString(policies.resolve("pool.yaml"), """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: scaling}
                spec:
                  endpoints: ["%s:8000"]
                """.formatted(NAME));
        ControlPlaneOptions options = ControlPlaneOptions.defaults(policies).withXds("127.0.0.1", 0).withAdmin("127.0.0.1", 0)
                .withEndpointRefresh(Duration.ofMillis(50));
        try (ControlPlane controlPlane = ControlPlane.start(options)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> addresses(controlPlane).equals(List.of("10.2.0.1")));

            Files.writeString(hosts, original + "10.2.0.1 " + NAME + "\n10.2.0.2 " + NAME + "\n", StandardCharsets.UTF_8);
            await().atMost(Duration.ofSeconds(10)).until(() -> addresses(controlPlane).equals(List.of("10.2.0.1", "10.2.0.2")));

            Files.writeString(hosts, original + "10.2.0.2 " + NAME + "\n", StandardCharsets.UTF_8);
            await().atMost(Duration.ofSeconds(10)).until(() -> addresses(controlPlane).equals(List.of("10.2.0.2")));

            // Gone from DNS altogether: the last addresses keep serving, and the policies stay applied.
            Files.writeString(hosts, original, StandardCharsets.UTF_8);
            String version = controlPlane.hub().currentVersion();
            long failures = controlPlane.metrics().refreshFailures();
            await().atMost(Duration.ofSeconds(10)).until(() -> controlPlane.metrics().refreshFailures() >= failures + 3);
            assertThat(controlPlane.hub().currentVersion()).isEqualTo(version);
            assertThat(addresses(controlPlane)).containsExactly("10.2.0.2");
            assertThat(controlPlane.policyStatus().lastRejected()).isNull();
        }
    }

    private static List<String> addresses(ControlPlane controlPlane) {
        var snapshot = controlPlane.hub().current();
        if (snapshot == null || snapshot.resource(ResourceType.ENDPOINT, "pool_scaling") == null) {
            return List.of();
        }
        ClusterLoadAssignment assignment = (ClusterLoadAssignment) snapshot.resource(ResourceType.ENDPOINT, "pool_scaling").message();
        return assignment.getEndpoints(0).getLbEndpointsList().stream()
                .map(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress()).toList();
    }

    private static Path hostsFile() throws URISyntaxException {
        return Path.of(System.getProperty("jdk.net.hosts.file"));
    }
}
