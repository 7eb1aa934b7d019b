package io.aimesh.bench.wasm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.aimesh.testing.GoTool;
import io.aimesh.testing.RustWasmExample;
import java.util.Collection;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;

/** The plugin chain benchmark at smoke size: one short iteration per engine and body size, in this JVM. */
class PluginChainBenchmarkSmokeTest {
    @Test
    void everyEngine_runs() throws Exception {
        assumeThat(GoTool.WASM_GUARD.locate()).as(GoTool.WASM_GUARD.skipMessage()).isPresent();
        assumeThat(RustWasmExample.HTTP_BODY.locate()).as(RustWasmExample.HTTP_BODY.skipMessage()).isPresent();
        Collection<RunResult> results = io.aimesh.bench.SmokeRun.of(PluginChainBenchmark.class.getSimpleName() + ".exchange$");

        assertThat(results).hasSize(4);
        assertThat(results).allSatisfy(result -> assertThat(result.getPrimaryResult().getScore()).isPositive());
    }
}
