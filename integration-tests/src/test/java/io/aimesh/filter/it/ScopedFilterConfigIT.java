package io.aimesh.filter.it;

import io.aimesh.testing.Ports;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.filter.AiFilter;
import io.aimesh.filter.AiFilterOptions;
import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import io.aimesh.testing.TestCertificates;
import io.aimesh.xds.XdsTls;
import io.aimesh.xds.snapshot.ResourceType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** An ai-filter replica of one namespace gets that namespace's filter config, over mutual TLS. */
class ScopedFilterConfigIT {
    @Test
    void aFilterOfANamespace_getsItsNamespacesConfig_overMutualTls() throws Exception {
        TestCertificates certificates = TestCertificates.create();
        XdsTls server = certificates.issue("control-plane", "ip:127.0.0.1,dns:localhost");
        XdsTls client = certificates.issue("filter-b", "uri:spiffe://cluster.local/ns/team-b/sa/ai-filter");
        Path policies = Files.createTempDirectory("aimesh-scoped-filter-");
        String team = """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: %1$s-edge, namespace: %1$s}
                spec:
                  filter: {address: 127.0.0.1:18080}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: %1$s-pool, namespace: %1$s}
                spec:
                  endpoints: ["127.0.0.1:18501"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: %1$s-llama, namespace: %1$s}
                spec:
                  model: llama-%1$s
                  versions: [{name: v1, pool: %1$s-pool, weight: 1}]
                """;
        Files.writeString(policies.resolve("teams.yaml"), team.formatted("team-a") + "---\n" + team.formatted("team-b"));
        try (Ports.Held listener = Ports.hold(); // no Envoy here binds it
             ControlPlane controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(policies).withXds("127.0.0.1", 0)
                .withAdmin("127.0.0.1", 0).withListener("127.0.0.1", listener.port()).withXdsTls(server));
             AiFilter filter = AiFilter.start(new AiFilterOptions("127.0.0.1:" + controlPlane.xdsPort(), "filter-b",
                     "127.0.0.1", 0, "127.0.0.1", 0).withNamespace("team-b")
                     .withXdsTls(new AiFilterOptions.XdsClientTls(client.certificateChain(), client.privateKey(),
                             client.trustedCa())))) {
            String teamB = controlPlane.hub().currentScopes().get("team-b").version(ResourceType.FILTER);
            String teamA = controlPlane.hub().currentScopes().get("team-a").version(ResourceType.FILTER);
            assertThat(teamB).isNotEqualTo(teamA);

            await().atMost(Duration.ofSeconds(10)).until(() -> teamB.equals(filter.configVersion()));
        }
    }
}
