package io.aimesh.bench.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import org.openjdk.jmh.results.RunResult;
import org.junit.jupiter.api.Test;

/** The batcher benchmark at smoke size: one short iteration per configuration, in this JVM. */
class BatcherBenchmarkSmokeTest {
    @Test
    void everyConfiguration_runs() throws Exception {
        Collection<RunResult> results = io.aimesh.bench.SmokeRun.of(BatcherBenchmark.class.getSimpleName() + ".fourProducers");

        assertThat(results).hasSize(4);
        assertThat(results).allSatisfy(result -> assertThat(result.getPrimaryResult().getScore()).isPositive());
    }
}
