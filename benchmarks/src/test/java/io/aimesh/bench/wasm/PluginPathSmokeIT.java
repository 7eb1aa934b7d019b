package io.aimesh.bench.wasm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.aimesh.testing.GoTool;
import org.junit.jupiter.api.Test;

/** The plugin path benchmark at smoke size: every path answers, with no error, and the report has a row each. */
class PluginPathSmokeIT {
    @Test
    void everyPath_answers() throws Exception {
        assumeThat(GoTool.WASM_GUARD.locate()).as(GoTool.WASM_GUARD.skipMessage()).isPresent();

        String report = PluginPathBenchmark.run(1);

        assertThat(report).containsPattern("\\| Envoy alone \\| [0-9.]+ ms \\| [0-9.]+ ms \\| [1-9][0-9]* \\| 0 \\|")
                .containsPattern("\\| Envoy \\+ the plugin \\(wasm filter, V8\\) \\| .* \\| [1-9][0-9]* \\| 0 \\|")
                .containsPattern("\\| aimesh \\(Envoy \\+ ai-filter\\) \\| .* \\| [1-9][0-9]* \\| 0 \\|")
                .containsPattern("\\| aimesh \\+ the plugin \\(ai-filter, Chicory compiled\\) \\| .* \\| [1-9][0-9]* \\| 0 \\|");
    }
}
