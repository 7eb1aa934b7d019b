package io.aimesh.xds.rollout;

import io.aimesh.filter.api.VersionSample;

/** What all filter replicas measured of one version over some span of time. Not thread-safe. */
final class VersionNumbers {
    long requests;
    long errors;
    long overloads;
    long outputTokens;
    long outputMeasured;
    /** Requests counted in {@link #ttft} as late (a lower bound) before they ended. */
    long late;
    final LatencyHistogram ttft = new LatencyHistogram();
    final LatencyHistogram tpot = new LatencyHistogram();

    void add(VersionSample sample) {
        requests += sample.getRequests();
        errors += sample.getErrors();
        overloads += sample.getOverloads();
        outputTokens += sample.getOutputTokens();
        outputMeasured += sample.getOutputMeasured();
        late += sample.getLate();
        ttft.add(sample.getTtft());
        tpot.add(sample.getTpot());
    }

    void add(VersionNumbers other) {
        requests += other.requests;
        errors += other.errors;
        overloads += other.overloads;
        outputTokens += other.outputTokens;
        outputMeasured += other.outputMeasured;
        late += other.late;
        ttft.add(other.ttft);
        tpot.add(other.tpot);
    }

    /** Requests that reached the version or were refused for its overload: what the rates are shares of. */
    long attempts() {
        return requests + overloads;
    }

    double errorRate() {
        return requests == 0 ? 0 : (double) errors / requests;
    }

    double overloadRate() {
        return attempts() == 0 ? 0 : (double) overloads / attempts();
    }

    double meanOutput() {
        return outputMeasured == 0 ? Double.NaN : (double) outputTokens / outputMeasured;
    }

    void clear() {
        requests = 0;
        errors = 0;
        overloads = 0;
        outputTokens = 0;
        outputMeasured = 0;
        late = 0;
        ttft.clear();
        tpot.clear();
    }
}
