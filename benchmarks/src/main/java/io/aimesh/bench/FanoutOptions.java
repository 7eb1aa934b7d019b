package io.aimesh.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How to run the {@link AdsFanoutBenchmark}.
 *
 * @param clients simulated Envoys, >= 1
 * @param changes policy edits measured one after another, >= 1
 * @param delta whether the clients speak delta (incremental) ADS rather than state of the world
 * @param report the markdown file whose section for this protocol is rewritten, or {@code null} for none
 * @param changeTimeout how long one edit may take to reach every client before the run fails
 */
record FanoutOptions(int clients, int changes, boolean delta, Path report, Duration changeTimeout) {
    static final String USAGE = "usage: AdsFanoutBenchmark [--clients N (1000)] [--changes N (20)] [--delta]"
            + " [--report FILE.md]";

    FanoutOptions {
        if (clients < 1) {
            throw new IllegalArgumentException("clients: " + clients + " (expected: >= 1)");
        }
        if (changes < 1) {
            throw new IllegalArgumentException("changes: " + changes + " (expected: >= 1)");
        }
        if (changeTimeout.isNegative() || changeTimeout.isZero()) {
            throw new IllegalArgumentException("changeTimeout: " + changeTimeout + " (expected: > 0)");
        }
    }

    static FanoutOptions of(int clients, int changes, boolean delta) {
        return new FanoutOptions(clients, changes, delta, null, Duration.ofSeconds(30));
    }

    /** Parses the command line; throws {@link IllegalArgumentException} with the usage on anything unknown. */
    static FanoutOptions parse(List<String> args) {
        int clients = 1000;
        int changes = 20;
        boolean delta = false;
        Path report = null;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            switch (arg) {
                case "--clients" -> clients = Integer.parseInt(value(args, ++i, arg));
                case "--changes" -> changes = Integer.parseInt(value(args, ++i, arg));
                case "--delta" -> delta = true;
                case "--report" -> report = Path.of(value(args, ++i, arg));
                default -> throw new IllegalArgumentException("unknown argument: " + arg + "\n" + USAGE);
            }
        }
        return new FanoutOptions(clients, changes, delta, report, Duration.ofSeconds(30));
    }

    String protocol() {
        return delta ? "delta" : "sotw";
    }

    private static String value(List<String> args, int i, String flag) {
        if (i >= args.size()) {
            throw new IllegalArgumentException(flag + " needs a value\n" + USAGE);
        }
        return args.get(i);
    }
}
