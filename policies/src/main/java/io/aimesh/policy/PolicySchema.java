package io.aimesh.policy;

import io.aimesh.policy.Shape.Field;
import io.aimesh.policy.Shape.Obj;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Renders the policy format as a JSON Schema (draft 2020-12) for editors, generated from the
 * same {@link Shape} declarations the loader validates with, so the schema cannot drift from
 * what the loader accepts. Rules across fields or resources (references, unique names,
 * weights not all zero) are the loader's alone.
 */
public final class PolicySchema {
    private PolicySchema() {
    }

    /** Returns the schema as pretty-printed JSON ending in a newline. */
    public static String json() {
        StringBuilder out = new StringBuilder();
        List<String> kinds = new ArrayList<>();
        for (String kind : Kinds.SPECS.keySet()) {
            kinds.add("{\"if\": {\"properties\": {\"kind\": {\"const\": " + quote(kind) + "}}}, "
                    + "\"then\": {\"properties\": {\"spec\": {\"$ref\": \"#/$defs/" + kind + "\"}}}}");
        }
        out.append("{\n  \"$schema\": \"https://json-schema.org/draft/2020-12/schema\",\n")
                .append("  \"$id\": \"https://aimesh.io/schemas/").append(Kinds.API_VERSION.replace('/', '-')).append(".json\",\n")
                .append("  \"title\": \"aimesh policy resource (").append(Kinds.API_VERSION).append(")\",\n")
                .append("  \"type\": \"object\",\n")
                .append("  \"additionalProperties\": false,\n")
                .append("  \"required\": [\"apiVersion\", \"kind\", \"metadata\", \"spec\"],\n")
                .append("  \"properties\": {\n")
                .append("    \"apiVersion\": {\"const\": ").append(quote(Kinds.API_VERSION)).append("},\n")
                .append("    \"kind\": {\"enum\": ").append(array(List.copyOf(Kinds.SPECS.keySet()))).append("},\n")
                .append("    \"metadata\": ").append(render(Kinds.METADATA, 4)).append(",\n")
                .append("    \"spec\": {\"type\": \"object\"}\n")
                .append("  },\n")
                .append("  \"allOf\": [\n    ").append(String.join(",\n    ", kinds)).append("\n  ],\n")
                .append("  \"$defs\": {\n");
        List<String> defs = new ArrayList<>();
        for (Map.Entry<String, Obj> spec : Kinds.SPECS.entrySet()) {
            defs.add("    " + quote(spec.getKey()) + ": " + render(spec.getValue(), 4));
        }
        return out.append(String.join(",\n", defs)).append("\n  }\n}\n").toString();
    }

    private static String render(Shape shape, int indent) {
        if (shape instanceof Obj obj) {
            return renderObj(obj, indent);
        }
        if (shape instanceof Shape.ListOf list) {
            return "{\"type\": \"array\", \"minItems\": " + list.minItems() + ", \"items\": " + render(list.item(), indent) + "}";
        }
        if (shape instanceof Shape.MapOf map) {
            return "{\"type\": \"object\", \"additionalProperties\": " + render(map.value(), indent) + "}";
        }
        if (shape instanceof Shape.Int range) {
            return "{\"type\": \"integer\", \"minimum\": " + range.min()
                    + (range.max() == Long.MAX_VALUE ? "" : ", \"maximum\": " + range.max()) + "}";
        }
        if (shape instanceof Shape.Bool) {
            return "{\"type\": \"boolean\"}";
        }
        if (shape instanceof Shape.OneOf oneOf) {
            return "{\"enum\": " + array(oneOf.values()) + "}";
        }
        if (shape instanceof Shape.Dur) {
            return "{\"type\": \"string\", \"pattern\": \"^[0-9]{1,9}(ms|s|m|h|d)$\"}";
        }
        if (shape instanceof Shape.Str str) {
            return "{\"type\": \"string\""
                    + (str.pattern() == null ? "" : ", \"pattern\": " + quote("^" + str.pattern().pattern() + "$"))
                    + (str.maxLength() == Integer.MAX_VALUE ? "" : ", \"maxLength\": " + str.maxLength()) + "}";
        }
        return "{}";
    }

    private static String renderObj(Obj obj, int indent) {
        String pad = " ".repeat(indent + 2);
        List<String> required = new ArrayList<>();
        List<String> properties = new ArrayList<>();
        for (Field field : obj.fields()) {
            if (field.required()) {
                required.add(field.name());
            }
            String body = render(field.shape(), indent + 4);
            String doc = field.doc() + (field.defaultValue() == null ? "" : " Default: " + field.defaultValue() + ".");
            properties.add(pad + "  " + quote(field.name()) + ": {\"description\": " + quote(doc)
                    + ", \"allOf\": [" + body + "]}");
        }
        return "{\n" + pad + "\"description\": " + quote(obj.doc()) + ",\n"
                + pad + "\"type\": \"object\",\n"
                + pad + "\"additionalProperties\": false,\n"
                + pad + "\"required\": " + array(required) + ",\n"
                + pad + "\"properties\": {\n" + String.join(",\n", properties) + "\n" + pad + "}\n"
                + " ".repeat(indent) + "}";
    }

    private static String array(List<String> values) {
        List<String> quoted = values.stream().map(PolicySchema::quote).toList();
        return "[" + String.join(", ", quoted) + "]";
    }

    static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
