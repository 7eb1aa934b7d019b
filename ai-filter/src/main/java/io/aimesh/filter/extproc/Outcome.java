package io.aimesh.filter.extproc;

/**
 * How the filter ended a request's admission: the first word of {@code x-aimesh-decision} and of
 * the refusal log line, and the {@code outcome} label of the request metric.
 */
enum Outcome {
    /** Sent on to a model server (or answered by a coalesced call). */
    ADMITTED("admitted"),
    /** Refused for who is asking: no or unknown identity, a model not theirs. */
    DENIED("denied"),
    /** Refused by a token or request budget. */
    LIMITED("limited"),
    /** Refused because the model's servers are saturated. */
    SHED("shed"),
    /** A bad request, no configuration yet, or a failure in the filter. */
    ERROR("error");

    private final String label;

    Outcome(String label) {
        this.label = label;
    }

    /** The lower-case word in decisions and metrics. */
    String label() {
        return label;
    }
}
