package io.aimesh.bench;

import java.util.Collection;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** A JMH benchmark at smoke size, as CI runs each: in this JVM, no warmup, one 200 ms iteration per parameter set. */
public final class SmokeRun {
    private SmokeRun() {
    }

    /** @param include the benchmark methods, a JMH include pattern such as {@code PluginBenchmark.request$} */
    public static Collection<RunResult> of(String include) throws RunnerException {
        return new Runner(new OptionsBuilder()
                .include(include)
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(200))
                .mode(Mode.AverageTime)
                .timeUnit(TimeUnit.NANOSECONDS)
                .build()).run();
    }
}
