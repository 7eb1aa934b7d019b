package io.aimesh.modelsim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LoraSlotsTest {
    private static final long LOAD = 5_000_000;

    @Test
    void aBatchHoldsAtMostMaxLorasAdapters_andTheBaseModelNeedsNoSlot() {
        LoraSlots slots = new LoraSlots(2, LOAD);

        assertThat(slots.start("a")).isEqualTo(LOAD);
        assertThat(slots.start("b")).isEqualTo(LOAD);
        assertThat(slots.canRun("c")).isFalse();
        assertThat(slots.canRun("a")).isTrue();
        assertThat(slots.canRun(null)).isTrue();
        assertThat(slots.start("a")).isZero(); // in its slot already
        assertThat(slots.runningNames()).isEqualTo("a,b");
    }

    @Test
    void aNewAdapter_takesTheLeastRecentlyUsedSlotNoRunningSequenceUses() {
        LoraSlots slots = new LoraSlots(2, LOAD);
        slots.start("a");
        slots.start("b");
        slots.finish("a");

        assertThat(slots.canRun("c")).isTrue();
        assertThat(slots.start("c")).isEqualTo(LOAD); // a leaves its slot; b is running
        slots.finish("b");
        slots.finish("c");
        assertThat(slots.start("b")).isZero();
        assertThat(slots.start("a")).isEqualTo(LOAD); // a was evicted: loaded again, c (least recent) goes
        assertThat(slots.canRun("c")).isFalse(); // a and b are running in both slots
        assertThat(slots.loads()).isEqualTo(4); // a, b, c, a again
    }

    @Test
    void finish_countsSequences_notAdapters() {
        LoraSlots slots = new LoraSlots(1, LOAD);
        slots.start("a");
        slots.start("a");
        slots.finish("a");

        assertThat(slots.canRun("b")).isFalse();
        slots.finish("a");
        assertThat(slots.canRun("b")).isTrue();
        assertThat(slots.runningNames()).isEmpty();
        assertThat(slots.loads()).isEqualTo(1);
    }
}
