package io.aimesh.bench.spend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;

/** The spend ledger benchmark at smoke size: one short iteration per store, in this JVM. */
class SpendLedgerBenchmarkSmokeTest {
    @Test
    void everyStore_runs() throws Exception {
        Collection<RunResult> results = io.aimesh.bench.SmokeRun.of(SpendLedgerBenchmark.class.getSimpleName() + ".admitAndSettle$");

        assertThat(results).hasSize(3);
        assertThat(results).allSatisfy(result -> assertThat(result.getPrimaryResult().getScore()).isPositive());
    }
}
