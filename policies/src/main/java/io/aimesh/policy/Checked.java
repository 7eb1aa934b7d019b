package io.aimesh.policy;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A YAML value that passed {@link ShapeChecker}: its type is known to match the declared
 * {@link Shape}, and it remembers where it came from so later, cross-resource checks can
 * still point at the line that is wrong.
 *
 * <p>{@code value} is a {@link String}, {@link Long}, {@link Boolean}, {@link Duration}, {@code List<Checked>}
 * or {@code Map<String, Checked>} (in file order).
 */
record Checked(Location location, String path, Object value) {

    Checked get(String key) {
        return map().get(key);
    }

    String string(String key, String defaultValue) {
        Checked c = get(key);
        return c == null ? defaultValue : (String) c.value;
    }

    long integer(String key, long defaultValue) {
        Checked c = get(key);
        return c == null ? defaultValue : (Long) c.value;
    }

    boolean bool(String key, boolean defaultValue) {
        Checked c = get(key);
        return c == null ? defaultValue : (Boolean) c.value;
    }

    Duration duration(String key, Duration defaultValue) {
        Checked c = get(key);
        return c == null ? defaultValue : (Duration) c.value;
    }

    /** The items of list field {@code key}; empty when absent. */
    @SuppressWarnings("unchecked")
    List<Checked> list(String key) {
        Checked c = get(key);
        return c == null ? List.of() : (List<Checked>) c.value;
    }

    /** The items of this list value. */
    @SuppressWarnings("unchecked")
    List<Checked> items() {
        return (List<Checked>) value;
    }

    List<String> strings(String key, List<String> defaultValue) {
        Checked c = get(key);
        if (c == null) {
            return defaultValue;
        }
        return list(key).stream().map(item -> (String) item.value).toList();
    }

    @SuppressWarnings("unchecked")
    Map<String, Checked> map() {
        return (Map<String, Checked>) value;
    }

    /** The location of field {@code key}, or of this value when the field is absent. */
    Location locationOf(String key) {
        Checked c = get(key);
        return c == null ? location : c.location;
    }
}
