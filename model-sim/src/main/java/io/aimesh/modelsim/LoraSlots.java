package io.aimesh.modelsim;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The LoRA adapters on the simulated GPU, as vLLM holds them ({@code --max-loras}):
 * <ul>
 *   <li>at most {@code maxLoras} adapters in GPU slots; the running batch uses only those, so it
 *       holds at most {@code maxLoras} distinct adapters;</li>
 *   <li>a sequence whose adapter is not in a slot loads it: the step that admits it lasts the load
 *       time longer (vLLM copies the weights from its CPU cache), and the adapter takes the least
 *       recently used slot no running sequence uses;</li>
 *   <li>a sequence whose adapter cannot get a slot (every slot used by running sequences of other
 *       adapters) is skipped, not blocking the queue, and considered again next step, as vLLM's
 *       scheduler does.</li>
 * </ul>
 * The base model ({@code null} adapter) needs no slot. Confined to the engine thread, except the
 * published names.
 */
final class LoraSlots {
    private final int maxLoras;
    private final long loadNanos;
    /** Adapters in GPU slots, least recently used first. */
    private final LinkedHashSet<String> resident = new LinkedHashSet<>();
    /** Running sequences per adapter. */
    private final Map<String, Integer> running = new HashMap<>();
    private long loads;

    /**
     * @param maxLoras GPU slots, {@code >= 1}
     * @param loadNanos the time one load adds to its step
     */
    LoraSlots(int maxLoras, long loadNanos) {
        if (maxLoras < 1) {
            throw new IllegalArgumentException("maxLoras: " + maxLoras + " (expected: >= 1)");
        }
        this.maxLoras = maxLoras;
        this.loadNanos = loadNanos;
    }

    int maxLoras() {
        return maxLoras;
    }

    /** Whether a sequence of {@code adapter} can join the running batch now. */
    boolean canRun(String adapter) {
        return adapter == null || running.containsKey(adapter) || running.size() < maxLoras;
    }

    /** A sequence of {@code adapter} joins the batch; returns the load time it adds to the step (0 if resident). */
    long start(String adapter) {
        if (adapter == null) {
            return 0;
        }
        running.merge(adapter, 1, Integer::sum);
        if (resident.remove(adapter)) {
            resident.add(adapter); // most recently used
            return 0;
        }
        if (resident.size() == maxLoras) {
            for (Iterator<String> oldest = resident.iterator(); oldest.hasNext(); ) {
                if (!running.containsKey(oldest.next())) {
                    oldest.remove();
                    break;
                }
            }
        }
        resident.add(adapter);
        loads++;
        return loadNanos;
    }

    /** Empties the slots no running sequence uses. */
    void unloadIdle() {
        resident.removeIf(adapter -> !running.containsKey(adapter));
    }

    /** A sequence of {@code adapter} left the batch; its adapter stays in its slot until another needs it. */
    void finish(String adapter) {
        if (adapter != null) {
            running.computeIfPresent(adapter, (name, count) -> count == 1 ? null : count - 1);
        }
    }

    /** The adapters of running sequences, sorted and comma-separated, as vLLM's metric label spells them. */
    String runningNames() {
        return String.join(",", new TreeSet<>(running.keySet()));
    }

    long loadNanos() {
        return loadNanos;
    }

    /** A copy of the adapters in GPU slots. */
    Set<String> resident() {
        return Set.copyOf(resident);
    }

    /** Adapter loads so far. */
    long loads() {
        return loads;
    }
}
