package io.aimesh.xds.dashboard;

/**
 * One number per time slot over the last {@value #SLOTS} slots, added to as reports arrive: the
 * dashboard's charts and windows. Not thread-safe: the {@link TrafficBoard} guards it.
 */
final class Ring {
    static final int SLOTS = 120;
    private final long[] values = new long[SLOTS];
    /** The slot number each cell holds, so a cell left from an earlier lap reads as 0. */
    private final long[] slots = new long[SLOTS];

    Ring() {
        java.util.Arrays.fill(slots, -1);
    }

    void add(long slot, long value) {
        int cell = (int) Math.floorMod(slot, (long) SLOTS);
        if (slots[cell] != slot) {
            slots[cell] = slot;
            values[cell] = 0;
        }
        values[cell] += value;
    }

    long get(long slot) {
        int cell = (int) Math.floorMod(slot, (long) SLOTS);
        return slots[cell] == slot ? values[cell] : 0;
    }

    /** The sum over the {@code count} slots ending with {@code last}. */
    long sum(long last, int count) {
        long sum = 0;
        for (long slot = last - count + 1; slot <= last; slot++) {
            sum += get(slot);
        }
        return sum;
    }
}
