package io.aimesh.policy;

import io.aimesh.policy.Shape.Field;
import io.aimesh.policy.Shape.Obj;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;

/**
 * Renders each policy kind as a Kubernetes CustomResourceDefinition ({@code apiextensions.k8s.io/v1},
 * group {@code aimesh.io}), from the same {@link Shape} declarations the loader validates with, so
 * that {@code kubectl apply} checks a policy file as the control plane would.
 *
 * <p>The schemas are structural, as Kubernetes requires: every node has a {@code type}, and
 * descriptions sit beside the type rather than in an {@code allOf}. They never say
 * {@code additionalProperties: false} (Kubernetes forbids it beside {@code properties}); the API
 * server drops unknown fields instead, and kubectl's strict field validation (the default since
 * Kubernetes 1.27) refuses them, which is what the loader does. Defaults stay in the descriptions:
 * the control plane applies them, and an API-server default would be stored in the object. Every
 * duration is a string with a unit and every size an integer, so no field is int-or-string.
 * Rules across fields or resources (references, unique names) remain the loader's alone.
 */
public final class PolicyCrds {
    /** The API group of every policy kind. */
    public static final String GROUP = "aimesh.io";

    private PolicyCrds() {
    }

    /**
     * Returns one CRD per kind as YAML, keyed by file name ({@code aimesh.io_<plural>.yaml}), in the
     * order the documentation lists the kinds.
     */
    public static Map<String, String> files() {
        Map<String, String> files = new LinkedHashMap<>();
        Dump dump = new Dump(DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK).setWidth(110)
                .setIndicatorIndent(2).setIndentWithIndicator(true).build());
        for (Map.Entry<String, Obj> kind : Kinds.SPECS.entrySet()) {
            String plural = plural(kind.getKey());
            files.put(GROUP + "_" + plural + ".yaml", "# Generated from the policy declarations (io.aimesh.policy.Kinds) by "
                    + "`bin/aimesh schema --crds deploy/crds`; do not edit.\n" + dump.dumpToString(crd(kind.getKey(), kind.getValue())));
        }
        return files;
    }

    /** The plural resource name of a kind, e.g. {@code inferencepools}. */
    public static String plural(String kind) {
        return kind.toLowerCase(Locale.ROOT) + "s";
    }

    private static Map<String, Object> crd(String kind, Obj spec) {
        String version = Kinds.API_VERSION.substring(Kinds.API_VERSION.indexOf('/') + 1);
        Map<String, Object> metadataName = map("type", "string", "maxLength", 63,
                "pattern", anchored(Kinds.NAME.pattern().pattern()));
        Map<String, Object> root = map(
                "description", kind + ": " + spec.doc(),
                "type", "object",
                "required", List.of("spec"),
                "properties", map(
                        "apiVersion", map("type", "string"),
                        "kind", map("type", "string"),
                        // Kubernetes allows a CRD to restrict only the name (and generateName) of metadata.
                        "metadata", map("type", "object", "properties", map("name", metadataName)),
                        "spec", render(spec)));
        Map<String, Object> versionEntry = map("name", version, "served", true, "storage", true,
                "schema", map("openAPIV3Schema", root));
        return map(
                "apiVersion", "apiextensions.k8s.io/v1",
                "kind", "CustomResourceDefinition",
                "metadata", map("name", plural(kind) + "." + GROUP,
                        "labels", map("app.kubernetes.io/name", "aimesh", "app.kubernetes.io/component", "crd")),
                "spec", map(
                        "group", GROUP,
                        "names", map("kind", kind, "listKind", kind + "List", "plural", plural(kind),
                                "singular", kind.toLowerCase(Locale.ROOT), "categories", List.of("aimesh")),
                        "scope", "Namespaced",
                        "versions", List.of(versionEntry)));
    }

    private static Map<String, Object> render(Shape shape) {
        if (shape instanceof Obj obj) {
            Map<String, Object> properties = new LinkedHashMap<>();
            List<String> required = new ArrayList<>();
            for (Field field : obj.fields()) {
                Map<String, Object> schema = new LinkedHashMap<>();
                schema.put("description", field.doc() + (field.defaultValue() == null ? "" : " Default: " + field.defaultValue() + "."));
                schema.putAll(render(field.shape()));
                properties.put(field.name(), schema);
                if (field.required()) {
                    required.add(field.name());
                }
            }
            Map<String, Object> out = map("type", "object");
            if (!required.isEmpty()) {
                out.put("required", required);
            }
            out.put("properties", properties);
            return out;
        }
        if (shape instanceof Shape.ListOf list) {
            Map<String, Object> out = map("type", "array");
            if (list.minItems() > 0) {
                out.put("minItems", list.minItems());
            }
            out.put("items", render(list.item()));
            return out;
        }
        if (shape instanceof Shape.MapOf map) {
            return map("type", "object", "additionalProperties", render(map.value()));
        }
        if (shape instanceof Shape.Int range) {
            Map<String, Object> out = map("type", "integer", "minimum", range.min());
            if (range.max() != Long.MAX_VALUE) {
                out.put("maximum", range.max());
            }
            return out;
        }
        if (shape instanceof Shape.Bool) {
            return map("type", "boolean");
        }
        if (shape instanceof Shape.OneOf oneOf) {
            return map("type", "string", "enum", oneOf.values());
        }
        if (shape instanceof Shape.Dur) {
            return map("type", "string", "pattern", "^[0-9]{1,9}(ms|s|m|h|d)$");
        }
        if (shape instanceof Shape.Str str) {
            Map<String, Object> out = map("type", "string");
            if (str.pattern() != null) {
                out.put("pattern", anchored(str.pattern().pattern()));
            }
            if (str.maxLength() != Integer.MAX_VALUE) {
                out.put("maxLength", str.maxLength());
            }
            return out;
        }
        return map("x-kubernetes-preserve-unknown-fields", true);
    }

    /** Java's {@code matches()} is anchored at both ends; the API server's RE2 {@code pattern} is not. */
    private static String anchored(String regex) {
        return "^(?:" + regex + ")$";
    }

    private static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            out.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return out;
    }
}
