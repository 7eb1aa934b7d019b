package io.aimesh.filter.extproc;

/** Why a request was shed from a saturated pool, in its {@code x-aimesh-decision}. */
enum ShedReason {
    /** Every endpoint is saturated and the pool does not queue. */
    SATURATED("saturated"),
    /** The pool's waiting room is full of requests that come first. */
    QUEUE_FULL("queue-full"),
    /** The wait ended before an endpoint had room. */
    QUEUE_TIMEOUT("queue-timeout"),
    /** A more important or less served request took its place in the queue. */
    DISPLACED("displaced");

    private final String label;

    ShedReason(String label) {
        this.label = label;
    }

    String label() {
        return label;
    }
}
