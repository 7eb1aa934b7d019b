package io.aimesh.bench.e2e;

import io.aimesh.bench.e2e.OpenLoopLoad.LoadRun;

/**
 * One point of the benchmark: a path at one rate and body size, its rounds merged, with the
 * CPU time the path's processes spent on it. Not thread-safe.
 */
final class PointResult {
    private final DataPath path;
    private final int rate;
    private final int bodyBytes;
    private final LoadStats stats = new LoadStats();
    private long scheduled;
    private long wallNanos;
    private long envoyCpuNanos;
    private long extProcCpuNanos;
    private long benchCpuNanos;
    private int rounds;
    private int maxConnections;

    PointResult(DataPath path, int rate, int bodyBytes) {
        this.path = path;
        this.rate = rate;
        this.bodyBytes = bodyBytes;
    }

    /** Adds one round, with the CPU nanoseconds each process used during it. */
    void add(LoadRun run, long envoyCpu, long extProcCpu, long benchCpu) {
        stats.add(run.stats());
        scheduled += run.scheduled();
        wallNanos += run.wallNanos();
        envoyCpuNanos += envoyCpu;
        extProcCpuNanos += extProcCpu;
        benchCpuNanos += benchCpu;
        rounds++;
        maxConnections = Math.max(maxConnections, run.connections());
    }

    DataPath path() {
        return path;
    }

    int rate() {
        return rate;
    }

    int bodyBytes() {
        return bodyBytes;
    }

    LoadStats stats() {
        return stats;
    }

    long scheduled() {
        return scheduled;
    }

    int rounds() {
        return rounds;
    }

    /** The most connections one round opened: how far the generator had to go beyond its warm ones. */
    int maxConnections() {
        return maxConnections;
    }

    /** Successful responses per second of measured time (first intended send to last response, per round). */
    double achievedPerSecond() {
        return wallNanos == 0 ? 0 : stats.ok() / (wallNanos / 1e9);
    }

    /** Errors of every kind, unanswered requests included. */
    long errors() {
        return stats.errors();
    }

    double envoyCpuMicrosPerRequest() {
        return perRequestMicros(envoyCpuNanos);
    }

    double extProcCpuMicrosPerRequest() {
        return perRequestMicros(extProcCpuNanos);
    }

    double benchCpuMicrosPerRequest() {
        return perRequestMicros(benchCpuNanos);
    }

    private double perRequestMicros(long nanos) {
        long requests = stats.ok() + stats.errors();
        return requests == 0 ? 0 : nanos / 1e3 / requests;
    }
}
