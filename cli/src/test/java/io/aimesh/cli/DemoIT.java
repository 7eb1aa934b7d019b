package io.aimesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's demo, shortened: real Envoy, control plane and model-sims on the example policies. */
class DemoIT {

    @Test
    void demo_routesTheExamplesAndShiftsTheSplitWithoutFailures(@TempDir Path work) throws Exception {
        CliTest.Run run = CliTest.run("demo", "--policies", "../policies/examples", "--work-dir", work.toString(),
                "--listener-port", String.valueOf(freePort()), "--xds-port", String.valueOf(freePort()),
                "--admin-port", String.valueOf(freePort()), "--envoy-admin-port", String.valueOf(freePort()),
                "--filter-admin-port", String.valueOf(freePort()),
                "--interval", "2", "--shift-after", "4", "--duration", "10", "--max-tokens", "4");

        assertThat(run.code()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("demo: Envoy listens on http://127.0.0.1:", "edited routes.yaml: v1=50 v2=50",
                "127.0.0.1:18101 (v1)", "127.0.0.1:18202 (v2)");
        assertThat(run.out()).contains("demo: ai-filter on 127.0.0.1:18080", "acme", "globex");
        assertThat(run.out()).containsPattern("demo: done, [1-9][0-9]* requests succeeded, [0-9]+ rate limited \\(429\\), 0 failed");
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
