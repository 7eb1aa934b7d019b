package io.aimesh.bench.wasm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.aimesh.testing.GoTool;
import java.util.Collection;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;

/** The plugin benchmark at smoke size: one short iteration per engine and body size, in this JVM. */
class PluginBenchmarkSmokeTest {
    @Test
    void everyEngine_runs() throws Exception {
        assumeThat(GoTool.WASM_GUARD.locate()).as(GoTool.WASM_GUARD.skipMessage()).isPresent();
        Collection<RunResult> results = io.aimesh.bench.SmokeRun.of(PluginBenchmark.class.getSimpleName() + ".request$");

        assertThat(results).hasSize(4);
        assertThat(results).allSatisfy(result -> assertThat(result.getPrimaryResult().getScore()).isPositive());
    }
}
