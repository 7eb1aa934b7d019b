package io.aimesh.bench.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.junit.jupiter.api.Test;

/** The batcher benchmark at smoke size: one short iteration per configuration, in this JVM. */
class BatcherBenchmarkSmokeTest {
    @Test
    void everyConfiguration_runs() throws Exception {
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include(BatcherBenchmark.class.getSimpleName() + ".fourProducers")
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
