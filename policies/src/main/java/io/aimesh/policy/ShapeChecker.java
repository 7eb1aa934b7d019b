package io.aimesh.policy;

import io.aimesh.policy.Shape.Dur;
import io.aimesh.policy.Shape.Field;
import io.aimesh.policy.Shape.Int;
import io.aimesh.policy.Shape.ListOf;
import io.aimesh.policy.Shape.MapOf;
import io.aimesh.policy.Shape.Obj;
import io.aimesh.policy.Shape.OneOf;
import io.aimesh.policy.Shape.Str;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * Checks a YAML node tree against a declared {@link Shape}, collecting every error rather
 * than stopping at the first: a user fixing a policy wants all its problems at once.
 * Not thread-safe; one instance per document.
 */
final class ShapeChecker {
    private static final Pattern DURATION = Pattern.compile("([0-9]{1,9})(ms|s|m|h|d)");

    private final String file;
    private final String resource;
    private final List<PolicyError> errors;

    /**
     * @param resource prefix for error paths, e.g. {@code ModelRoute/llama}, or empty
     */
    ShapeChecker(String file, String resource, List<PolicyError> errors) {
        this.file = file;
        this.resource = resource;
        this.errors = errors;
    }

    /** Returns the checked value, or {@code null} when the node (or anything below it) is invalid. */
    Checked check(Node node, Shape shape, String path) {
        Location loc = YamlDocuments.location(file, node);
        if (node instanceof ScalarNode s && s.getTag().equals(Tag.NULL)) {
            return fail(loc, path, "missing value (expected: " + shape.describe() + ")");
        }
        if (shape instanceof Shape.Anything) {
            return new Checked(loc, path, null);
        }
        if (shape instanceof Obj obj) {
            return checkObj(node, obj, path, loc);
        }
        if (shape instanceof ListOf list) {
            return checkList(node, list, path, loc);
        }
        if (shape instanceof MapOf map) {
            return checkMap(node, map, path, loc);
        }
        if (!(node instanceof ScalarNode scalar)) {
            return fail(loc, path, "expected " + shape.describe() + ", got " + kindOf(node));
        }
        return checkScalar(scalar, shape, path, loc);
    }

    private Checked checkObj(Node node, Obj obj, String path, Location loc) {
        if (!(node instanceof MappingNode mapping)) {
            return fail(loc, path, "expected a mapping (fields: " + names(obj) + "), got " + kindOf(node));
        }
        Map<String, Checked> fields = new LinkedHashMap<>();
        boolean ok = true;
        for (NodeTuple tuple : mapping.getValue()) {
            String key = keyOf(tuple, path);
            if (key == null) {
                ok = false;
                continue;
            }
            String fieldPath = join(path, key);
            Field field = obj.field(key);
            if (field == null) {
                ok = false;
                fail(YamlDocuments.location(file, tuple.getKeyNode()), fieldPath,
                        "unknown field '" + key + "' (expected one of: " + names(obj) + ")");
                continue;
            }
            if (fields.containsKey(key)) {
                ok = false;
                fail(YamlDocuments.location(file, tuple.getKeyNode()), fieldPath, "duplicate field '" + key + "'");
                continue;
            }
            Checked value = check(tuple.getValueNode(), field.shape(), fieldPath);
            ok &= value != null;
            fields.put(key, value);
        }
        for (Field field : obj.fields()) {
            if (field.required() && !fields.containsKey(field.name())) {
                ok = false;
                fail(loc, path, "missing required field '" + field.name() + "'");
            }
        }
        return ok ? new Checked(loc, path, fields) : null;
    }

    private Checked checkList(Node node, ListOf list, String path, Location loc) {
        if (!(node instanceof SequenceNode sequence)) {
            return fail(loc, path, "expected a list, got " + kindOf(node));
        }
        List<Checked> items = new ArrayList<>();
        boolean ok = true;
        for (Node item : sequence.getValue()) {
            Checked checked = check(item, list.item(), path + '[' + items.size() + ']');
            ok &= checked != null;
            items.add(checked);
        }
        if (items.size() < list.minItems()) {
            ok = false;
            fail(loc, path, "expected at least " + list.minItems() + " item(s), got " + items.size());
        }
        return ok ? new Checked(loc, path, List.copyOf(items)) : null;
    }

    private Checked checkMap(Node node, MapOf map, String path, Location loc) {
        if (!(node instanceof MappingNode mapping)) {
            return fail(loc, path, "expected a mapping, got " + kindOf(node));
        }
        Map<String, Checked> entries = new LinkedHashMap<>();
        boolean ok = true;
        for (NodeTuple tuple : mapping.getValue()) {
            String key = keyOf(tuple, path);
            if (key != null && entries.containsKey(key)) {
                ok = false;
                fail(YamlDocuments.location(file, tuple.getKeyNode()), join(path, key), "duplicate key '" + key + "'");
                continue;
            }
            Checked value = key == null ? null : check(tuple.getValueNode(), map.value(), join(path, key));
            ok &= value != null;
            if (key != null) {
                entries.put(key, value);
            }
        }
        return ok ? new Checked(loc, path, entries) : null;
    }

    private Checked checkScalar(ScalarNode scalar, Shape shape, String path, Location loc) {
        String text = scalar.getValue();
        Tag tag = scalar.getTag();
        if (shape instanceof Int range) {
            if (!tag.equals(Tag.INT)) {
                return fail(loc, path, "expected an integer, got " + describeScalar(scalar));
            }
            long value;
            try {
                value = Long.parseLong(text);
            } catch (NumberFormatException e) {
                return fail(loc, path, text + " is out of range (expected: " + rangeText(range) + ")");
            }
            if (value < range.min() || value > range.max()) {
                return fail(loc, path, value + " is out of range (expected: " + rangeText(range) + ")");
            }
            return new Checked(loc, path, value);
        }
        if (shape instanceof Shape.Bool) {
            if (!tag.equals(Tag.BOOL)) {
                return fail(loc, path, "expected true or false, got " + describeScalar(scalar));
            }
            return new Checked(loc, path, Boolean.parseBoolean(text));
        }
        if (!tag.equals(Tag.STR)) {
            return fail(loc, path, "expected " + shape.describe() + ", got " + describeScalar(scalar) + fixFor(shape, scalar));
        }
        if (shape instanceof Str str) {
            if (!str.accepts(text)) {
                return fail(loc, path, (str.secret() ? "invalid value, not shown in case it is a secret" : "'" + text + "' is invalid")
                        + " (expected: " + str.hint() + ")");
            }
            return new Checked(loc, path, text);
        }
        if (shape instanceof OneOf oneOf) {
            if (!oneOf.values().contains(text)) {
                return fail(loc, path, oneOf.values().size() == 1
                        ? "'" + text + "' is not supported (expected: " + oneOf.values().get(0) + ")"
                        : "'" + text + "' is not " + oneOf.describe());
            }
            return new Checked(loc, path, text);
        }
        if (shape instanceof Dur dur) {
            Duration value = parseDuration(text);
            if (value == null) {
                return fail(loc, path, "'" + text + "' is not " + dur.describe());
            }
            if (value.compareTo(dur.min()) < 0 || value.compareTo(dur.max()) > 0) {
                return fail(loc, path, text + " is out of range (expected: " + formatDuration(dur.min()) + " to "
                        + formatDuration(dur.max()) + ")");
            }
            return new Checked(loc, path, value);
        }
        throw new IllegalStateException("unhandled shape " + shape);
    }

    /** Parses {@code 500ms}, {@code 2s}, {@code 1m}, {@code 1h}, {@code 1d}; returns {@code null} otherwise. */
    static Duration parseDuration(String text) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) {
            return null;
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    /** Renders {@code duration} in the policy syntax, e.g. {@code 1ms} or {@code 1h}, rather than ISO-8601. */
    static String formatDuration(Duration duration) {
        long ms = duration.toMillis();
        if (ms == 0) {
            return "0s";
        }
        long[] sizes = {86_400_000, 3_600_000, 60_000, 1_000};
        String[] units = {"d", "h", "m", "s"};
        for (int i = 0; i < sizes.length; i++) {
            if (ms % sizes[i] == 0) {
                return ms / sizes[i] + units[i];
            }
        }
        return ms + "ms";
    }

    /** How to fix a number or boolean given where {@code shape} wants text, when there is an obvious way. */
    private static String fixFor(Shape shape, ScalarNode scalar) {
        Tag tag = scalar.getTag();
        if (shape instanceof Str && (tag.equals(Tag.INT) || tag.equals(Tag.FLOAT) || tag.equals(Tag.BOOL))) {
            return "; quote it to use it as text";
        }
        if (shape instanceof Dur && tag.equals(Tag.INT)) {
            return "; add a unit, such as " + scalar.getValue() + "s";
        }
        return "";
    }

    private String keyOf(NodeTuple tuple, String path) {
        Node key = tuple.getKeyNode();
        if (key instanceof ScalarNode s && s.getTag().equals(Tag.STR)) {
            return s.getValue();
        }
        fail(YamlDocuments.location(file, key), path, "field names must be strings, got " + kindOf(key));
        return null;
    }

    private Checked fail(Location loc, String path, String message) {
        String fullPath = resource.isEmpty() ? path : path.isEmpty() ? resource : resource + ' ' + path;
        errors.add(new PolicyError(loc, fullPath, message));
        return null;
    }

    private static String rangeText(Int range) {
        return range.max() == Long.MAX_VALUE ? ">= " + range.min() : range.min() + ".." + range.max();
    }

    private static String names(Obj obj) {
        return String.join(", ", obj.fields().stream().map(Field::name).toList());
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + '.' + key;
    }

    private static String kindOf(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        return describeScalar((ScalarNode) node);
    }

    private static String describeScalar(ScalarNode scalar) {
        Tag tag = scalar.getTag();
        String kind = tag.equals(Tag.INT) ? "an integer" : tag.equals(Tag.FLOAT) ? "a number"
                : tag.equals(Tag.BOOL) ? "a boolean" : tag.equals(Tag.NULL) ? "nothing" : "a string";
        return kind + " '" + scalar.getValue() + "'";
    }
}
