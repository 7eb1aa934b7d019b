package io.aimesh.bench.spend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** The spend ledger benchmark at smoke size: one short iteration per store, in this JVM. */
class SpendLedgerBenchmarkSmokeTest {
    @Test
    void everyStore_runs() throws Exception {
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include(SpendLedgerBenchmark.class.getSimpleName() + ".admitAndSettle$")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(200))
                .mode(Mode.AverageTime)
                .timeUnit(TimeUnit.NANOSECONDS)
                .build()).run();

        assertThat(results).hasSize(3);
        assertThat(results).allSatisfy(result -> assertThat(result.getPrimaryResult().getScore()).isPositive());
    }
}
