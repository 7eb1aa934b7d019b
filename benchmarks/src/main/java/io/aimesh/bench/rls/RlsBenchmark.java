package io.aimesh.bench.rls;

import com.google.protobuf.UInt64Value;
import io.aimesh.bench.FilterStack;
import io.aimesh.testing.Ports;
import io.aimesh.testing.RedisServer;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Envoy's rate limit service API: aimesh's ai-filter (global limits on Redis) beside
 * envoyproxy/ratelimit, with its defaults and with its pipelining tuned, on the same Redis and
 * machine. A closed loop of {@code concurrency} ShouldRateLimit calls in flight, spread over
 * {@code connections} HTTP/2 connections (as an Envoy with that many worker threads opens), one
 * descriptor {@code tenant=acme} each, {@code hits_addend} 1, under a limit that never refuses
 * (every call does the full admitting path).
 *
 * <pre>
 * benchmarks/scripts/rls.sh [--seconds 10] [--concurrency 64] [--connections 2]
 * </pre>
 */
public final class RlsBenchmark {
    private static final String TENANT = "acme";

    record Result(String server, double callsPerSecond, long p50Micros, long p99Micros, long errors) {
    }

    private RlsBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path ratelimit = null;
        int seconds = 10;
        int concurrency = 64;
        int connections = 2;
        Path report = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--ratelimit" -> ratelimit = Path.of(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
                case "--connections" -> connections = Integer.parseInt(args[++i]);
                case "--report" -> report = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: RlsBenchmark --ratelimit BINARY [--seconds N] [--concurrency N] [--report FILE]");
                    System.exit(2);
                }
            }
        }
        if (ratelimit == null) {
            System.err.println("--ratelimit: the envoyproxy/ratelimit binary (benchmarks/scripts/rls.sh builds it)");
            System.exit(2);
        }
        List<Result> results = run(ratelimit, seconds, concurrency, connections);
        String table = markdown(results, seconds, concurrency, connections);
        System.out.print(table);
        if (report != null) {
            FilterStack.writeResults(report, table);
        }
    }

    static List<Result> run(Path ratelimitBinary, int seconds, int concurrency, int connections) throws Exception {
        Path dir = Files.createTempDirectory("aimesh-rls-");
        List<Result> results = new ArrayList<>();
        try (RedisServer redis = RedisServer.start()) {
            int redisPort = redis.port();
            results.add(runRatelimit(ratelimitBinary, dir.resolve("default"), redisPort, Map.of(), "envoyproxy/ratelimit (defaults)",
                    seconds, concurrency, connections));
            results.add(runRatelimit(ratelimitBinary, dir.resolve("tuned"), redisPort,
                    Map.of("REDIS_PIPELINE_WINDOW", "150us", "REDIS_PIPELINE_LIMIT", "8"),
                    "envoyproxy/ratelimit (pipeline 150us / 8)", seconds, concurrency, connections));
            results.add(runAimesh(dir.resolve("aimesh"), redisPort, seconds, concurrency, connections));
        }
        return results;
    }

    private static Result runRatelimit(Path binary, Path dir, int redisPort, Map<String, String> tuning, String name,
                                       int seconds, int concurrency, int connections) throws Exception {
        Path config = Files.createDirectories(dir.resolve("ratelimit").resolve("config"));
        Files.writeString(config.resolve("config.yaml"), """
                domain: aimesh
                descriptors:
                  - key: tenant
                    value: acme
                    rate_limit:
                      unit: minute
                      requests_per_unit: 1000000000
                """);
        List<Ports.Held> ports = List.of(Ports.hold(), Ports.hold(), Ports.hold());
        int grpcPort = ports.get(0).port();
        ProcessBuilder builder = new ProcessBuilder(binary.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("ratelimit.log").toFile());
        Map<String, String> env = builder.environment();
        env.put("USE_STATSD", "false");
        env.put("LOG_LEVEL", "error");
        env.put("RUNTIME_ROOT", dir.toString());
        env.put("RUNTIME_SUBDIRECTORY", "ratelimit");
        env.put("RUNTIME_WATCH_ROOT", "false");
        env.put("REDIS_SOCKET_TYPE", "tcp");
        env.put("REDIS_URL", "127.0.0.1:" + redisPort);
        env.put("GRPC_PORT", Integer.toString(grpcPort));
        env.put("PORT", Integer.toString(ports.get(1).port()));
        env.put("DEBUG_PORT", Integer.toString(ports.get(2).port()));
        env.putAll(tuning);
        ports.forEach(Ports.Held::release); // the service binds them as it starts
        Process process = builder.start();
        try {
            awaitPort(grpcPort);
            return load(name, grpcPort, seconds, concurrency, connections);
        } finally {
            process.destroy();
            process.waitFor();
        }
    }

    private static Result runAimesh(Path dir, int redisPort, int seconds, int concurrency, int connections) throws Exception {
        try (FilterStack stack = FilterStack.start("rls-bench", dir, filterPort -> """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  filter: {address: "127.0.0.1:%d"}
                  globalLimits: {redis: "redis://127.0.0.1:%d", leaseTokens: 10000}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p}
                spec:
                  endpoints: ["127.0.0.1:9"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: m}
                spec:
                  model: m
                  versions: [{name: v1, pool: p, weight: 1}]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: %s}
                spec:
                  identity: {apiKeys: [{sha256: "sha256:%s"}]}
                  limits: [{window: 1m, tokens: 100000000000}]
                """.formatted(filterPort, redisPort, TENANT, FilterStack.apiKeyDigest("bench-key")), false)) {
            int filterPort = stack.filterPort();
            return load("aimesh ai-filter (global limits)", filterPort, seconds, concurrency, connections);
        }
    }

    /** A closed loop of {@code concurrency} calls for a 3 s warm-up, then {@code seconds} measured. */
    private static Result load(String name, int port, int seconds, int concurrency, int connections) throws Exception {
        List<ManagedChannel> channels = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            channels.add(NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build());
        }
        try {
            RateLimitRequest request = RateLimitRequest.newBuilder().setDomain("aimesh")
                    .addDescriptors(RateLimitDescriptor.newBuilder()
                            .addEntries(RateLimitDescriptor.Entry.newBuilder().setKey("tenant").setValue(TENANT))
                            .setHitsAddend(UInt64Value.of(1)))
                    .build();
            Histogram latency = new Histogram(1, TimeUnit.SECONDS.toNanos(10), 3);
            AtomicLong completed = new AtomicLong();
            AtomicLong errors = new AtomicLong();
            AtomicBoolean measuring = new AtomicBoolean();
            AtomicBoolean running = new AtomicBoolean(true);
            CountDownLatch stopped = new CountDownLatch(concurrency);
            for (int i = 0; i < concurrency; i++) {
                call(RateLimitServiceGrpc.newStub(channels.get(i % connections)), request, latency, completed, errors, measuring,
                        running, stopped);
            }
            Thread.sleep(3_000);
            synchronized (latency) {
                latency.reset();
            }
            completed.set(0);
            errors.set(0);
            measuring.set(true);
            long start = System.nanoTime();
            Thread.sleep(seconds * 1_000L);
            long calls = completed.get();
            double elapsed = (System.nanoTime() - start) / 1e9;
            running.set(false);
            stopped.await(10, TimeUnit.SECONDS);
            synchronized (latency) {
                return new Result(name, calls / elapsed, latency.getValueAtPercentile(50) / 1_000,
                        latency.getValueAtPercentile(99) / 1_000, errors.get());
            }
        } finally {
            for (ManagedChannel channel : channels) {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static void call(RateLimitServiceGrpc.RateLimitServiceStub stub, RateLimitRequest request, Histogram latency,
                             AtomicLong completed, AtomicLong errors, AtomicBoolean measuring, AtomicBoolean running,
                             CountDownLatch stopped) {
        if (!running.get()) {
            stopped.countDown();
            return;
        }
        long start = System.nanoTime();
        stub.shouldRateLimit(request, new StreamObserver<>() {
            @Override
            public void onNext(RateLimitResponse response) {
                if (response.getOverallCode() != RateLimitResponse.Code.OK) {
                    errors.incrementAndGet();
                }
            }

            @Override
            public void onError(Throwable t) {
                errors.incrementAndGet();
                done();
            }

            @Override
            public void onCompleted() {
                done();
            }

            private void done() {
                if (measuring.get()) {
                    synchronized (latency) {
                        latency.recordValue(Math.min(latency.getHighestTrackableValue(), System.nanoTime() - start));
                    }
                    completed.incrementAndGet();
                }
                call(stub, request, latency, completed, errors, measuring, running, stopped);
            }
        });
    }

    static String markdown(List<Result> results, int seconds, int concurrency, int connections) {
        StringBuilder out = new StringBuilder();
        out.append(concurrency).append(" calls in flight on ").append(connections).append(" connection(s), ").append(seconds)
                .append(" s measured after 3 s of warm-up.\n\n");
        out.append("| server | calls/s | p50 | p99 | errors |\n|---|---:|---:|---:|---:|\n");
        for (Result r : results) {
            out.append(String.format("| %s | %,.0f | %d µs | %d µs | %d |%n", r.server(), r.callsPerSecond(), r.p50Micros(),
                    r.p99Micros(), r.errors()));
        }
        Result aimesh = results.get(results.size() - 1);
        for (Result r : results.subList(0, results.size() - 1)) {
            out.append(String.format("%naimesh / %s: %.2f× the calls/s, p99 %.2f×%n", r.server(), aimesh.callsPerSecond()
                    / r.callsPerSecond(), (double) aimesh.p99Micros() / Math.max(1, r.p99Micros())));
        }
        return out.toString();
    }

    private static void awaitPort(int port) throws Exception {
        for (int i = 0; i < 200; i++) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("nothing listens on port " + port);
    }
}
