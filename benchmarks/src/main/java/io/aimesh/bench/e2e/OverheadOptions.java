package io.aimesh.bench.e2e;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * How to run the {@link FilterOverheadBenchmark}.
 *
 * @param rates request rates per second, each {@code >= 1}, measured in this order
 * @param bodyBytes request body sizes in bytes, each {@code >= }{@value ChatRequest#MIN_BODY_BYTES}
 * @param duration measured time per rate, body size and path, split over the rounds
 * @param rounds how many slices each measurement is cut into, the paths alternating between slices, {@code >= 1}
 * @param warmup time per path and body size at the {@link #warmupRate()} before measuring, not recorded
 * @param paths the paths to measure, at least one
 * @param envoyConcurrency Envoy worker threads ({@code --concurrency}), {@code >= 1}
 * @param connections keep-alive connections each run opens before its first send, {@code >= 1}
 * @param tokenizer the ModelRoute's {@code tokenizer}: the filter counts prompt tokens with it
 * @param filterJvmArgs JVM flags of the ai-filter's process, e.g. a heap size or a JFR recording
 * @param report the markdown file whose results section the run rewrites, or {@code null}
 * @param aigwExtproc Envoy AI Gateway's extproc binary, for the {@link DataPath#AIGW} path, or {@code null}
 * @param litellm the {@code litellm} executable, for the {@link DataPath#LITELLM} path, or {@code null}
 * @param streams for the peer benchmark: whether each measurement asks for a stream ({@code false}: JSON)
 * @param saturationClients for the peer benchmark: closed-loop clients that find a path's throughput
 * @param saturationSeconds for the peer benchmark: how long they run per path, body and mode
 */
record OverheadOptions(List<Integer> rates, List<Integer> bodyBytes, Duration duration, int rounds, Duration warmup,
                       List<DataPath> paths, int envoyConcurrency, int connections, String tokenizer,
                       List<String> filterJvmArgs, Path report, Path aigwExtproc, Path litellm, List<Boolean> streams,
                       int saturationClients, Duration saturationSeconds) {
    static final int MAX_WARMUP_RATE = 1000;
    static final String USAGE = """
            options (defaults in brackets):
              --rates R1,R2,...       requests per second [200,500,1000,2000,3000]
              --body-bytes B1,B2,...  request body sizes [4096,1024]
              --duration S            measured seconds per rate, size and path [20]
              --rounds N              slices per measurement, paths alternating [4]
              --warmup S              warm-up seconds per path and size [15]
              --paths P1,P2,...       of direct, envoy, extproc, filter [direct,envoy,extproc,filter]
              --envoy-concurrency N   Envoy worker threads [2]
              --connections N         warm connections per run [4]
              --tokenizer NAME        the route's tokenizer [cl100k_base]
              --filter-jvm-args ARGS  the filter JVM's flags, space-separated [-Xms1g -Xmx1g -XX:+AlwaysPreTouch]
              --report FILE           rewrite the results section of FILE
              --aigw-extproc PATH     Envoy AI Gateway's extproc binary, for the aigw path
              --litellm PATH          the litellm executable, for the litellm path
              --streams B1,B2         peer benchmark: false (JSON), true (SSE) or both [false,true]
              --saturation-clients N  peer benchmark: closed-loop clients for the throughput [32]
              --saturation-seconds S  peer benchmark: seconds of it per path, body and mode [10]""";

    OverheadOptions {
        rates = List.copyOf(rates);
        bodyBytes = List.copyOf(bodyBytes);
        paths = List.copyOf(paths);
        filterJvmArgs = List.copyOf(filterJvmArgs);
        streams = List.copyOf(streams);
        requireNonNull(saturationSeconds, "saturationSeconds");
        requireNonNull(duration, "duration");
        requireNonNull(warmup, "warmup");
        requireNonNull(tokenizer, "tokenizer");
        List<String> errors = new ArrayList<>();
        if (rates.isEmpty() || rates.stream().anyMatch(rate -> rate < 1)) {
            errors.add("rates: " + rates + " (expected: one or more, each >= 1)");
        }
        if (bodyBytes.isEmpty() || bodyBytes.stream().anyMatch(size -> size < ChatRequest.MIN_BODY_BYTES)) {
            errors.add("bodyBytes: " + bodyBytes + " (expected: one or more, each >= " + ChatRequest.MIN_BODY_BYTES + ")");
        }
        if (duration.toMillis() < 100) {
            errors.add("duration: " + duration + " (expected: >= 100 ms)");
        }
        if (rounds < 1) {
            errors.add("rounds: " + rounds + " (expected: >= 1)");
        }
        if (warmup.isNegative()) {
            errors.add("warmup: " + warmup + " (expected: >= 0)");
        }
        if (paths.isEmpty() || paths.stream().distinct().count() != paths.size()) {
            errors.add("paths: " + paths + " (expected: one or more, no repeats)");
        }
        if (envoyConcurrency < 1) {
            errors.add("envoyConcurrency: " + envoyConcurrency + " (expected: >= 1)");
        }
        if (connections < 1 || connections > OpenLoopLoad.MAX_CONNECTIONS) {
            errors.add("connections: " + connections + " (expected: 1.." + OpenLoopLoad.MAX_CONNECTIONS + ")");
        }
        if (paths.contains(DataPath.AIGW) && aigwExtproc == null) {
            errors.add("paths: aigw needs --aigw-extproc (benchmarks/scripts/install-ai-gateway.sh builds it)");
        }
        if (paths.contains(DataPath.LITELLM) && litellm == null) {
            errors.add("paths: litellm needs --litellm (benchmarks/scripts/install-litellm.sh installs it)");
        }
        if (streams.isEmpty() || streams.stream().distinct().count() != streams.size()) {
            errors.add("streams: " + streams + " (expected: false, true or both)");
        }
        if (saturationClients < 1 || saturationSeconds.toMillis() < 100) {
            errors.add("saturation: " + saturationClients + " clients for " + saturationSeconds + " (expected: >= 1, >= 100 ms)");
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException(String.join("\n", errors));
        }
    }

    /** The defaults: see {@link #USAGE}. */
    static OverheadOptions defaults() {
        return new OverheadOptions(List.of(200, 500, 1000, 2000, 3000), List.of(4096, 1024), Duration.ofSeconds(20), 4,
                Duration.ofSeconds(15), List.of(DataPath.DIRECT, DataPath.ENVOY, DataPath.EXTPROC, DataPath.FILTER), 2, 4,
                "cl100k_base", List.of("-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"), null, null, null, List.of(false, true), 32,
                Duration.ofSeconds(10));
    }

    /** A run of a few seconds at a low rate, for the smoke test. */
    static OverheadOptions smoke() {
        return new OverheadOptions(List.of(50), List.of(1024), Duration.ofSeconds(2), 2, Duration.ofSeconds(1),
                List.of(DataPath.DIRECT, DataPath.ENVOY, DataPath.EXTPROC, DataPath.FILTER), 1, 2, "cl100k_base",
                List.of("-Xmx256m"), null, null, null, List.of(false, true), 4, Duration.ofSeconds(1));
    }

    /** A benchmark's command line: the options, or every problem with them and the usage on stderr and exit code 2. */
    static OverheadOptions parseOrExit(String[] args) {
        try {
            return parse(List.of(args));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            throw e; // not reached
        }
    }

    /**
     * Parses command-line arguments over {@link #defaults()}.
     *
     * @throws IllegalArgumentException naming every bad argument, one per line, followed by {@link #USAGE}
     */
    static OverheadOptions parse(List<String> args) {
        OverheadOptions defaults = defaults();
        List<Integer> rates = defaults.rates;
        List<Integer> bodyBytes = defaults.bodyBytes;
        Duration duration = defaults.duration;
        int rounds = defaults.rounds;
        Duration warmup = defaults.warmup;
        List<DataPath> paths = defaults.paths;
        int envoyConcurrency = defaults.envoyConcurrency;
        int connections = defaults.connections;
        String tokenizer = defaults.tokenizer;
        List<String> filterJvmArgs = defaults.filterJvmArgs;
        Path report = null;
        Path aigwExtproc = null;
        Path litellm = null;
        List<Boolean> streams = defaults.streams;
        int saturationClients = defaults.saturationClients;
        Duration saturationSeconds = defaults.saturationSeconds;
        List<String> errors = new ArrayList<>();
        for (int i = 0; i < args.size(); i += 2) {
            String name = args.get(i);
            if (i + 1 >= args.size()) {
                errors.add(name + ": missing value");
                break;
            }
            String value = args.get(i + 1);
            try {
                switch (name) {
                    case "--rates" -> rates = list(value, Integer::parseInt);
                    case "--body-bytes" -> bodyBytes = list(value, Integer::parseInt);
                    case "--duration" -> duration = Duration.ofMillis(Math.round(Double.parseDouble(value) * 1000));
                    case "--rounds" -> rounds = Integer.parseInt(value);
                    case "--warmup" -> warmup = Duration.ofMillis(Math.round(Double.parseDouble(value) * 1000));
                    case "--paths" -> paths = list(value, DataPath::of);
                    case "--envoy-concurrency" -> envoyConcurrency = Integer.parseInt(value);
                    case "--connections" -> connections = Integer.parseInt(value);
                    case "--tokenizer" -> tokenizer = value;
                    case "--filter-jvm-args" -> filterJvmArgs = value.isBlank() ? List.of() : List.of(value.trim().split("\\s+"));
                    case "--report" -> report = Path.of(value);
                    case "--aigw-extproc" -> aigwExtproc = Path.of(value);
                    case "--litellm" -> litellm = Path.of(value);
                    case "--streams" -> streams = list(value, OverheadOptions::bool);
                    case "--saturation-clients" -> saturationClients = Integer.parseInt(value);
                    case "--saturation-seconds" -> saturationSeconds = Duration.ofMillis(Math.round(Double.parseDouble(value) * 1000));
                    default -> errors.add(name + ": unknown option");
                }
            } catch (IllegalArgumentException e) {
                errors.add(name + " " + value + ": " + e.getMessage());
            }
        }
        if (errors.isEmpty()) {
            try {
                return new OverheadOptions(rates, bodyBytes, duration, rounds, warmup, paths, envoyConcurrency,
                        connections, tokenizer, filterJvmArgs, report, aigwExtproc, litellm, streams, saturationClients,
                        saturationSeconds);
            } catch (IllegalArgumentException e) {
                errors.add(e.getMessage());
            }
        }
        throw new IllegalArgumentException(String.join("\n", errors) + "\n" + USAGE);
    }

    /**
     * The warm-up's rate: the highest measured, but at most {@value #MAX_WARMUP_RATE} per second, so that
     * a rate past a path's capacity does not start the measurement with a queue a second long.
     */
    int warmupRate() {
        return Math.min(MAX_WARMUP_RATE, rates.stream().mapToInt(Integer::intValue).max().orElseThrow());
    }

    private static boolean bool(String value) {
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("expected true or false");
        };
    }

    private static <T> List<T> list(String value, Function<String, T> element) {
        return Arrays.stream(value.split(",")).map(String::trim).map(element).toList();
    }
}
