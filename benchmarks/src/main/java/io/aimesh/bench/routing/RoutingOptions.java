package io.aimesh.bench.routing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The routing benchmark's settings.
 *
 * @param loads offered loads as fractions of the fleet's measured capacity, each in {@code (0, 3]}
 * @param modes balancing modes to compare: round-robin, least-request, orca, eds-weights, picker,
 *     picker-no-affinity (the picker without its prefix and LoRA scorers), oracle (no proxy: each
 *     request straight to the model-sim with the lowest predicted TTFT from its exact state)
 * @param speeds one model-sim per entry, at that speed multiplier
 * @param maxSeqs each model-sim's batch size (vLLM's max_num_seqs)
 * @param duration measured time per load and mode
 * @param calibration time the capacity measurement runs
 * @param metricsInterval the picker's scrape interval
 * @param seed seeds the workload and the arrivals
 * @param report the markdown file whose results section is rewritten, or {@code null}
 * @param workload the request mix
 * @param maxLoras each model-sim's adapter slots (for {@link Workload#LORA}, which serves {@value Workload#ADAPTERS} adapters)
 */
record RoutingOptions(List<Double> loads, List<String> modes, List<Double> speeds, int maxSeqs, Duration duration,
                      Duration calibration, Duration metricsInterval, long seed, Path report, Workload workload, int maxLoras) {
    static final Set<String> MODES = Set.of("round-robin", "least-request", "orca", "eds-weights", "picker",
            "picker-no-affinity", "oracle");
    static final String USAGE = """
            options (defaults in brackets):
              --loads L1,L2,...     offered load as a fraction of capacity [0.3,0.5,0.7,0.8,0.9,1.0,1.1]
              --modes M1,M2,...     of round-robin, least-request, orca, eds-weights, picker, picker-no-affinity,
                                    oracle [round-robin,least-request,orca,eds-weights,picker]
              --workload W          plain, chat, system-prompts, rag or lora [plain]
              --max-loras N         adapter slots of each model-sim, for the lora workload [4]
              --speeds S1,S2,...    one model-sim per speed [2,2,1.4,1]
              --max-seqs N          batch size of each model-sim [8]
              --duration S          measured seconds per load and mode [40]
              --calibration S       seconds of the capacity measurement [15]
              --metrics-interval MS the picker's scrape interval [50]
              --seed N              seeds the workload and arrivals [1]
              --report FILE         rewrite the results section of FILE (and FILE with .svg for the plot)""";

    RoutingOptions {
        loads = List.copyOf(loads);
        modes = List.copyOf(modes);
        speeds = List.copyOf(speeds);
        List<String> errors = new ArrayList<>();
        if (loads.isEmpty() || loads.stream().anyMatch(load -> !(load > 0 && load <= 3))) {
            errors.add("loads: " + loads + " (expected: one or more, each above 0 and at most 3)");
        }
        if (modes.isEmpty() || !MODES.containsAll(modes)) {
            errors.add("modes: " + modes + " (expected: one or more of round-robin, least-request, orca, eds-weights, picker,"
                    + " picker-no-affinity, oracle)");
        }
        if (workload == null) {
            errors.add("workload: missing (expected: plain, chat, system-prompts, rag or lora)");
        }
        if (maxLoras < 1) {
            errors.add("max-loras: " + maxLoras + " (expected: >= 1)");
        }
        if (speeds.size() < 2 || speeds.stream().anyMatch(speed -> !(speed > 0 && speed <= 100))) {
            errors.add("speeds: " + speeds + " (expected: two or more, each above 0 and at most 100)");
        }
        if (maxSeqs < 1) {
            errors.add("max-seqs: " + maxSeqs + " (expected: >= 1)");
        }
        if (duration.isNegative() || duration.isZero() || calibration.isNegative() || calibration.isZero()) {
            errors.add("duration and calibration must be positive");
        }
        if (metricsInterval.toMillis() < 10) {
            errors.add("metrics-interval: " + metricsInterval.toMillis() + " (expected: >= 10)");
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", errors));
        }
    }

    static RoutingOptions defaults() {
        return new RoutingOptions(List.of(0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1),
                List.of("round-robin", "least-request", "orca", "eds-weights", "picker"),
                List.of(2.0, 2.0, 1.4, 1.0), 8, Duration.ofSeconds(40), Duration.ofSeconds(15), Duration.ofMillis(50), 1, null,
                Workload.PLAIN, 4);
    }

    /** Seconds, for CI: one load on a clearly skewed fleet (one endpoint a quarter as fast). */
    static RoutingOptions smoke() {
        return new RoutingOptions(List.of(0.7), List.of("round-robin", "picker"), List.of(4.0, 4.0, 1.0), 8,
                Duration.ofSeconds(8), Duration.ofSeconds(4), Duration.ofMillis(50), 1, null, Workload.PLAIN, 4);
    }

    static RoutingOptions parse(List<String> args) {
        RoutingOptions o = defaults();
        List<Double> loads = o.loads;
        List<String> modes = o.modes;
        List<Double> speeds = o.speeds;
        int maxSeqs = o.maxSeqs;
        Duration duration = o.duration;
        Duration calibration = o.calibration;
        Duration interval = o.metricsInterval;
        long seed = o.seed;
        Path report = null;
        Workload workload = o.workload;
        int maxLoras = o.maxLoras;
        for (int i = 0; i < args.size(); i++) {
            String flag = args.get(i);
            if (i + 1 >= args.size()) {
                throw new IllegalArgumentException(flag + ": missing value\n" + USAGE);
            }
            String value = args.get(++i);
            try {
                switch (flag) {
                    case "--loads" -> loads = doubles(value);
                    case "--modes" -> modes = List.of(value.split(","));
                    case "--speeds" -> speeds = doubles(value);
                    case "--max-seqs" -> maxSeqs = Integer.parseInt(value);
                    case "--duration" -> duration = Duration.ofMillis(Math.round(Double.parseDouble(value) * 1000));
                    case "--calibration" -> calibration = Duration.ofMillis(Math.round(Double.parseDouble(value) * 1000));
                    case "--metrics-interval" -> interval = Duration.ofMillis(Long.parseLong(value));
                    case "--seed" -> seed = Long.parseLong(value);
                    case "--report" -> report = Path.of(value);
                    case "--workload" -> workload = workload(value);
                    case "--max-loras" -> maxLoras = Integer.parseInt(value);
                    default -> throw new IllegalArgumentException(flag + ": unknown option\n" + USAGE);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(flag + " " + value + ": not a number\n" + USAGE);
            }
        }
        return new RoutingOptions(loads, modes, speeds, maxSeqs, duration, calibration, interval, seed, report, workload,
                maxLoras);
    }

    private static Workload workload(String value) {
        for (Workload workload : Workload.values()) {
            if (workload.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-').equals(value)) {
                return workload;
            }
        }
        throw new IllegalArgumentException("--workload " + value + ": unknown (expected: plain, chat, system-prompts, rag or"
                + " lora)\n" + USAGE);
    }

    private static List<Double> doubles(String value) {
        List<Double> out = new ArrayList<>();
        for (String part : value.split(",")) {
            out.add(Double.parseDouble(part));
        }
        return out;
    }
}
