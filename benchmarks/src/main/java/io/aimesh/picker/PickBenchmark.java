package io.aimesh.picker;

import io.aimesh.bench.AbstractMicrobenchmark;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The cost of one {@link Picker#pick} on the request path, for pools of 8, 64 and 512 endpoints
 * with fresh, varied metrics and in-flight counts (goal: under 2 µs at 64). Two prompts: a short
 * one (below one prefix block, so no prefix hashing) and a 2 KB one that shares its first block
 * with earlier requests (hashing and index lookups included). In this package to build pool states
 * directly, as the filter's tests do; it reads the real classes from the ai-filter jar.
 *
 * <p>Run from the repository root:
 * <pre>
 * mvn -B -o -q -pl benchmarks -am package -DskipTests
 * java -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*' \
 *     org.openjdk.jmh.Main PickBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PickBenchmark extends AbstractMicrobenchmark {
    private static final long NOW = 1_000_000_000_000L;

    @Param({"8", "64", "512"})
    int endpoints;

    private PoolState pool;
    private Picker picker;
    private RequestFeatures shortPrompt;
    private RequestFeatures longPrompt;

    @Setup
    public void setUp() {
        Random random = new Random(7);
        List<PoolMember> members = new ArrayList<>();
        for (int i = 0; i < endpoints; i++) {
            EndpointState state = new EndpointState(random.nextInt(4), random.nextInt(8), random.nextDouble() * 0.7,
                    Set.of(), Set.of(), 0, NOW, 0, true);
            PoolMember member = new PoolMember(new Endpoint("10.0." + (i / 250) + "." + (i % 250 + 1), 8000), state);
            for (int r = random.nextInt(6); r > 0; r--) {
                member.load.started();
            }
            members.add(member);
        }
        pool = new PoolState(members, () -> NOW, 600_000_000L);
        picker = Picker.of(ScorerWeights.DEFAULT, Thresholds.DEFAULT, ThreadLocalRandom.current());
        shortPrompt = RequestFeatures.of("What is the capital of France?");
        StringBuilder text = new StringBuilder("You are a helpful assistant for a GPU cluster team. ".repeat(6));
        SplittableRandom words = new SplittableRandom(3);
        while (text.length() < 2048) {
            text.append("token").append(words.nextInt(1000)).append(' ');
        }
        longPrompt = RequestFeatures.of(text.toString());
        for (int i = 0; i < 1000; i++) {
            picker.pick(pool, longPrompt); // the shared prefix is known, as in steady state
        }
    }

    @Benchmark
    public Pick pickShortPrompt() {
        return picker.pick(pool, shortPrompt);
    }

    @Benchmark
    public Pick pickLongPromptWithSharedPrefix() {
        return picker.pick(pool, longPrompt);
    }
}
