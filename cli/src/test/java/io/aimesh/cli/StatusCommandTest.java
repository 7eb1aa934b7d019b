package io.aimesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.rpc.Status;
import io.aimesh.filter.AiFilter;
import io.aimesh.filter.AiFilterOptions;
import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code aimesh status} against a real control plane with a real ai-filter connected, and ADS
 * clients speaking the protocol as Envoy does for its clusters (CDS): one that acknowledges
 * everything, one that stops acknowledging, one that rejects. No Envoy: a real one acknowledges
 * every config this control plane validates, so it could not be made stale or rejecting on purpose.
 */
class StatusCommandTest {
    private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    @TempDir
    Path directory;
    private Path policies;
    private ControlPlane controlPlane;
    private AiFilter filter;
    private ManagedChannel channel;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws Exception {
        policies = Files.createDirectories(directory.resolve("policies"));
        writePools(1);
        controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(policies).withXds("127.0.0.1", 0).withAdmin("127.0.0.1", 0));
        filter = AiFilter.start(new AiFilterOptions("127.0.0.1:" + controlPlane.xdsPort(), "filter-1", "127.0.0.1", 0,
                "127.0.0.1", 0));
        await().atMost(Duration.ofSeconds(10)).until(() -> filter.configVersion() != null);
        channel = NettyChannelBuilder.forAddress("127.0.0.1", controlPlane.xdsPort()).usePlaintext().build();
    }

    /** The Gateway, a route, and {@code pools} pools: each pool is a cluster. */
    private void writePools(int pools) throws Exception {
        StringBuilder extra = new StringBuilder();
        for (int i = 2; i <= pools; i++) {
            extra.append("---\napiVersion: aimesh.io/v1alpha1\nkind: InferencePool\nmetadata: {name: p").append(i)
                    .append("}\nspec: {endpoints: [\"127.0.0.1:1810").append(i).append("\"]}\n");
        }
        Files.writeString(policies.resolve("all.yaml"), """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: g}
                spec: {filter: {address: "127.0.0.1:9001"}}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p1}
                spec: {endpoints: ["127.0.0.1:18101"]}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: r}
                spec:
                  model: llama
                  versions: [{name: v1, pool: p1, weight: 100}]
                """ + extra);
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        filter.close();
        controlPlane.close();
    }

    @Test
    void everyNodeInSync_printsOneLineEach_andExitsZero() throws Exception {
        CdsClient envoy = new CdsClient("envoy-good");
        envoy.ackNext();

        await().atMost(Duration.ofSeconds(10)).until(() -> run() == 0);
        String printed = out.toString();
        assertThat(printed).containsPattern("NODE +KIND +SCOPE +CLUSTER +ENDPOINT +LISTENER +ROUTE +FILTER +STATUS");
        assertThat(printed).containsPattern("envoy-good +envoy +default +[0-9a-f]{8} +- +- +- +- +SYNCED");
        assertThat(printed).containsPattern("filter-1 +ai-filter +default +- +- +- +- +[0-9a-f]{8} +SYNCED");
        assertThat(printed).contains("2 nodes: 2 SYNCED").contains("policies: applied");
    }

    @Test
    void aNodeThatHasNotTakenTheNewConfig_isStale_andOneThatRejectedIt_isNacked_withTheReason() throws Exception {
        CdsClient laggard = new CdsClient("envoy-laggard");
        CdsClient rejecter = new CdsClient("envoy-rejecter");
        laggard.ackNext();
        rejecter.ackNext();
        await().atMost(Duration.ofSeconds(10)).until(() -> run() == 0);

        writePools(2); // a new cluster: a new cluster version for every node
        laggard.next(); // received, never acknowledged
        rejecter.nackNext("cluster p1: unsupported field");
        await().atMost(Duration.ofSeconds(10)).until(() -> run() == 1 && out.toString().contains("NACKED"));

        String printed = out.toString();
        assertThat(printed).containsPattern("envoy-laggard +envoy +default +[0-9a-f]{8}->[0-9a-f]{8} .* STALE");
        assertThat(printed).containsPattern("envoy-rejecter +envoy +default +[0-9a-f]{8}->[0-9a-f]{8} .* NACKED");
        assertThat(printed).containsPattern("envoy-rejecter rejected cluster [0-9a-f]{8} at .*: cluster p1: unsupported field");
        assertThat(printed).contains("3 nodes: 1 NACKED, 1 STALE, 1 SYNCED");
        assertThat(run("--json")).isEqualTo(1);
        assertThat(out.toString()).contains("\"sync\" : \"STALE\"");
    }

    @Test
    void wait_waitsForTheLaggard_sayingWhom_andGivesUpAtItsDeadline() throws Exception {
        CdsClient laggard = new CdsClient("envoy-laggard");
        laggard.ackNext();
        writePools(2);
        laggard.next(); // never acknowledged

        assertThat(run("--wait", "2")).isEqualTo(1);
        assertThat(err.toString()).contains("aimesh status: waiting for envoy-laggard (STALE)");
        assertThat(out.toString()).containsPattern("envoy-laggard .* STALE");

        laggard.ackLast();
        assertThat(run("--wait", "10")).isZero();
        assertThat(out.toString()).contains("2 nodes: 2 SYNCED");
    }

    @Test
    void anUnreachableControlPlane_exitsThree() {
        StatusCommand command = command();
        assertThat(new CommandLine(command).execute("--admin", "http://127.0.0.1:1")).isEqualTo(3);
        assertThat(err.toString()).contains("aimesh status: cannot reach the control plane's admin API at http://127.0.0.1:1");
    }

    private int run(String... args) {
        StatusCommand command = command();
        String[] all = java.util.Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--admin";
        all[args.length + 1] = "http://127.0.0.1:" + controlPlane.adminPort();
        return new CommandLine(command).execute(all);
    }

    private StatusCommand command() {
        out.reset();
        err.reset();
        StatusCommand command = new StatusCommand();
        command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        command.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        return command;
    }

    /** A state-of-the-world ADS stream asking for every cluster, answering each response as told. */
    private final class CdsClient {
        private final LinkedBlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
        private final StreamObserver<DiscoveryRequest> requests;
        private final Node node;
        private String ackedVersion = "";

        CdsClient(String id) {
            node = Node.newBuilder().setId(id).setCluster("gateway").build();
            requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
                @Override
                public void onNext(DiscoveryResponse response) {
                    responses.add(response);
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            });
            requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).build());
        }

        DiscoveryResponse next() throws InterruptedException {
            DiscoveryResponse response = responses.poll(10, TimeUnit.SECONDS);
            assertThat(response).as("a CDS response").isNotNull();
            last = response;
            return response;
        }

        private DiscoveryResponse last;

        /** Acknowledges the response last received (by {@link #next}), late. */
        void ackLast() {
            requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(CDS).setVersionInfo(last.getVersionInfo())
                    .setResponseNonce(last.getNonce()).build());
        }

        void ackNext() throws InterruptedException {
            DiscoveryResponse response = next();
            ackedVersion = response.getVersionInfo();
            requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(CDS).setVersionInfo(ackedVersion)
                    .setResponseNonce(response.getNonce()).build());
        }

        void nackNext(String message) throws InterruptedException {
            DiscoveryResponse response = next();
            requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(CDS).setVersionInfo(ackedVersion)
                    .setResponseNonce(response.getNonce())
                    .setErrorDetail(Status.newBuilder().setCode(3).setMessage(message)).build());
        }
    }
}
