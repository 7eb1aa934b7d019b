package io.aimesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.testing.Ports;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's demo, shortened: real Envoy, control plane and model-sims on the example policies. */
class DemoIT {

    @Test
    void demo_routesTheExamplesAndShiftsTheSplitWithoutFailures(@TempDir Path work) throws Exception {
        List<String> args = new ArrayList<>(List.of("demo", "--policies", "../policies/examples", "--work-dir", work.toString(),
                "--interval", "2", "--shift-after", "4", "--duration", "10", "--max-tokens", "4"));
        List<Ports.Held> ports = new ArrayList<>();
        for (String option : List.of("--listener-port", "--xds-port", "--admin-port", "--envoy-admin-port", "--filter-admin-port")) {
            Ports.Held port = Ports.hold();
            ports.add(port);
            args.addAll(List.of(option, String.valueOf(port.port())));
        }
        ports.forEach(Ports.Held::release); // the demo binds them as it starts

        CliTest.Run run = CliTest.run(args.toArray(String[]::new));

        assertThat(run.code()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("demo: Envoy listens on http://127.0.0.1:", "edited routes.yaml: v1=50 v2=50",
                "127.0.0.1:18101 (v1)", "127.0.0.1:18202 (v2)");
        assertThat(run.out()).contains("demo: ai-filter on 127.0.0.1:18080", "acme", "globex");
        assertThat(run.out()).containsPattern("demo: done, [1-9][0-9]* requests succeeded, [0-9]+ rate limited \\(429\\), 0 failed");
    }
}
