package io.aimesh.xds;

import io.aimesh.testing.Ports;
import io.aimesh.testing.Envoy;
import io.aimesh.testing.TestCertificates;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Config scoping with real Envoys over mutual TLS: the control plane serves two namespaces; a
 * node gets its own namespace's clusters, and a node whose certificate proves another namespace
 * than it claims gets nothing.
 */
class ScopedMutualTlsIT {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static TestCertificates certificates;
    private static ControlPlane controlPlane;
    /** Envoy's listener port, in the policies; held until the Envoys start. */
    private static Ports.Held listener;

    @BeforeAll
    static void start() throws Exception {
        listener = Ports.hold();
        certificates = TestCertificates.create();
        XdsTls server = certificates.issue("control-plane", "ip:127.0.0.1,dns:localhost");
        Path policies = Files.createTempDirectory("aimesh-scoped-");
        String team = """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: %1$s-pool, namespace: %1$s}
                spec:
                  endpoints: ["127.0.0.1:%2$d"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: %1$s-llama, namespace: %1$s}
                spec:
                  model: llama
                  versions: [{name: v1, pool: %1$s-pool, weight: 1}]
                """;
        Files.writeString(policies.resolve("team-a.yaml"), team.formatted("team-a", 18501));
        Files.writeString(policies.resolve("team-b.yaml"), team.formatted("team-b", 18502));
        controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(policies).withXds("127.0.0.1", 0)
                .withAdmin("127.0.0.1", 0).withListener("127.0.0.1", listener.port()).withXdsTls(server));
    }

    @AfterAll
    static void stop() throws Exception {
        if (controlPlane != null) {
            controlPlane.close();
        }
        if (listener != null) {
            listener.release();
        }
    }

    @Test
    void aNodeGetsItsOwnNamespace_andAFalseClaimGetsNothing() throws Exception {
        XdsTls teamA = certificates.issue("gateway-a", "uri:spiffe://cluster.local/ns/team-a/sa/gateway");
        EnvoyBootstrap base = new EnvoyBootstrap("gateway-a", "aimesh-test", "127.0.0.1", controlPlane.xdsPort(), "127.0.0.1", 0,
                false);
        listener.release(); // the honest Envoy binds it once its listener arrives
        try (Envoy honest = Envoy.start(base.withNamespace("team-a").withTls(teamA));
             Envoy liar = Envoy.start(new EnvoyBootstrap("liar", "aimesh-test", "127.0.0.1", controlPlane.xdsPort(),
                     "127.0.0.1", 0, true).withNamespace("team-b").withTls(teamA))) {
            await().atMost(Duration.ofSeconds(20)).until(() -> honest.admin("/clusters").contains("pool_team-a-pool::"));
            assertThat(honest.admin("/clusters")).doesNotContain("pool_team-b-pool");

            await().atMost(Duration.ofSeconds(20)).until(() -> metric("aimesh_xds_scope_denials_total") >= 1);
            assertThat(liar.admin("/clusters")).doesNotContain("pool_team-a-pool").doesNotContain("pool_team-b-pool");
            assertThat(controlPlane.nodes().nodes()).extracting(status -> status.nodeId()).containsExactly("gateway-a");
        }
    }

    @Test
    void aFilterReportsVersionNumbersForItsOwnScopeOnly() throws Exception {
        XdsTls teamA = certificates.issue("filter-a", "uri:spiffe://cluster.local/ns/team-a/sa/filter");
        io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                .forAddress("localhost", controlPlane.xdsPort())
                .sslContext(io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.forClient()
                        .keyManager(teamA.certificateChain().toFile(), teamA.privateKey().toFile())
                        .trustManager(teamA.trustedCa().toFile()).build())
                .build();
        try {
            io.aimesh.filter.api.VersionStatsReport.Builder report = io.aimesh.filter.api.VersionStatsReport.newBuilder()
                    .setReplica("r").setSequence(1);
            io.grpc.stub.ClientCalls.blockingUnaryCall(channel, io.aimesh.filter.api.VersionStatsRpc.REPORT,
                    io.grpc.CallOptions.DEFAULT, report.setNamespace("team-a").build());

            org.assertj.core.api.Assertions.assertThatThrownBy(() -> io.grpc.stub.ClientCalls.blockingUnaryCall(channel,
                            io.aimesh.filter.api.VersionStatsRpc.REPORT, io.grpc.CallOptions.DEFAULT,
                            report.setNamespace("team-b").setSequence(2).build()))
                    .isInstanceOf(io.grpc.StatusRuntimeException.class)
                    .hasMessageContaining("PERMISSION_DENIED").hasMessageContaining("scope 'team-a'");
        } finally {
            channel.shutdownNow();
        }
    }

    private static double metric(String name) throws Exception {
        String text = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controlPlane.adminPort() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        return 0;
    }
}
