package io.aimesh.filter.body;

/**
 * The problems found in one request body, so a client sees all its mistakes in one 400 rather than
 * one per attempt. Only the first {@value #MAX_SHOWN} are spelled out: a 10,000-element array of
 * wrong types must not make a 10,000-line error.
 */
final class Problems {

    static final int MAX_SHOWN = 8;

    private final StringBuilder message = new StringBuilder();
    private String firstParam;
    private int count;

    /** Records that {@code param} (a field path, not null) is wrong; {@code what} says how. */
    void add(String param, String what) {
        if (count == 0) {
            firstParam = param;
        }
        if (count < MAX_SHOWN) {
            if (count > 0) {
                message.append("; ");
            }
            message.append(param).append(": ").append(what);
        }
        count++;
    }

    boolean isEmpty() {
        return count == 0;
    }

    /** The 400 naming every problem; the {@code param} is the first one's, as OpenAI reports one. */
    BodyError toError() {
        StringBuilder text = new StringBuilder(message);
        if (count > MAX_SHOWN) {
            text.append("; and ").append(count - MAX_SHOWN).append(" more");
        }
        return BodyError.invalid(400, firstParam, text.toString());
    }
}
