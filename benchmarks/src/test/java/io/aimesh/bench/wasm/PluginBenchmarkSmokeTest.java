package io.aimesh.bench.wasm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.aimesh.testing.GoTool;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** The plugin benchmark at smoke size: one short iteration per engine and body size, in this JVM. */
class PluginBenchmarkSmokeTest {
    @Test
    void everyEngine_runs() throws Exception {
        assumeThat(GoTool.WASM_GUARD.locate()).as(GoTool.WASM_GUARD.skipMessage()).isPresent();
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include(PluginBenchmark.class.getSimpleName() + ".request$")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(200))
                .mode(Mode.AverageTime)
                .timeUnit(TimeUnit.NANOSECONDS)
                .build()).run();

        assertThat(results).hasSize(4);
        assertThat(results).allSatisfy(result -> assertThat(result.getPrimaryResult().getScore()).isPositive());
    }
}
