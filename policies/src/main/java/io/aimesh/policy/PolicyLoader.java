package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

import io.aimesh.policy.Shape.Field;
import io.aimesh.policy.Shape.Obj;
import io.aimesh.policy.Shape.OneOf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/**
 * Loads a directory of policy files ({@code *.yaml}, {@code *.yml}; several resources per file
 * separated by {@code ---}) into a validated {@link PolicySet}. Stateless and thread-safe.
 */
public final class PolicyLoader {
    private PolicyLoader() {
    }

    /**
     * Loads every {@code *.yaml} and {@code *.yml} file under {@code dir}, in path order.
     * File names in errors are relative to {@code dir}.
     *
     * @throws IOException when the directory cannot be listed or a file cannot be read
     */
    public static LoadResult loadDirectory(Path dir) throws IOException {
        requireNonNull(dir, "dir");
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + ": not a directory");
        }
        Map<String, String> files = new LinkedHashMap<>();
        List<PolicyError> errors = new ArrayList<>();
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.filter(PolicyLoader::isPolicyFile).sorted(Comparator.naturalOrder()).toList()) {
                String name = dir.relativize(path).toString();
                String text = decode(name, Files.readAllBytes(path), errors);
                if (text != null) {
                    files.put(name, text);
                }
            }
        }
        return load(files, errors);
    }

    /** Loads policies from in-memory files: file name to YAML text, in the given order. */
    public static LoadResult load(Map<String, String> files) {
        requireNonNull(files, "files");
        return load(files, new ArrayList<>());
    }

    private static LoadResult load(Map<String, String> files, List<PolicyError> errors) {
        ResourceBinder binder = new ResourceBinder(errors);
        for (Map.Entry<String, String> file : files.entrySet()) {
            for (Node document : YamlDocuments.parse(file.getKey(), file.getValue(), errors)) {
                Checked checked = checkDocument(file.getKey(), document, errors);
                if (checked != null) {
                    binder.bind(checked);
                } else {
                    binder.declareInvalid(peek(document, "kind", null), peek(document, "metadata", "name"),
                            peek(document, "metadata", "namespace"), peek(document, "spec", "model"));
                }
            }
        }
        PolicySet policies = binder.link();
        if (!errors.isEmpty()) {
            errors.sort(Comparator.comparing((PolicyError e) -> e.location().file())
                    .thenComparingInt(e -> e.location().line())
                    .thenComparingInt(e -> e.location().column()));
            return new LoadResult(null, errors);
        }
        return new LoadResult(policies, List.of());
    }

    /**
     * Returns {@code bytes} as UTF-8 text, or {@code null} after adding an error that points at the first
     * byte that is not UTF-8 (typically a file saved as Latin-1 or UTF-16 by an editor).
     */
    private static String decode(String file, byte[] bytes, List<PolicyError> errors) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(in).toString();
        } catch (CharacterCodingException e) {
            int bad = in.position(); // the decoder stops at the start of the malformed sequence
            int lineStart = 0;
            int line = 1;
            for (int i = 0; i < bad; i++) {
                if (bytes[i] == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            int column = new String(bytes, lineStart, bad - lineStart, StandardCharsets.UTF_8).length() + 1;
            errors.add(new PolicyError(new Location(file, line, column), "",
                    String.format("file is not valid UTF-8 (byte 0x%02X); save it as UTF-8", bytes[bad] & 0xFF)));
            return null;
        }
    }

    /** The shape of a whole resource of {@code kind}; {@code null} kind means the kind is unknown. */
    static Obj documentShape(String kind) {
        return new Obj("An aimesh policy resource.", List.of(
                Field.required("apiVersion", new OneOf(List.of(Kinds.API_VERSION)), "Always " + Kinds.API_VERSION + "."),
                Field.required("kind", new OneOf(List.copyOf(Kinds.SPECS.keySet())), "The resource kind."),
                Field.required("metadata", Kinds.METADATA, "Name and labels."),
                Field.required("spec", kind == null ? new Shape.Anything() : Kinds.SPECS.get(kind), "The resource's settings.")));
    }

    private static Checked checkDocument(String file, Node document, List<PolicyError> errors) {
        String kind = peek(document, "kind", null);
        String name = peek(document, "metadata", "name");
        String known = Kinds.SPECS.containsKey(kind) ? kind : null;
        String resource = kind == null ? "" : kind + '/' + (name == null ? "?" : name);
        return new ShapeChecker(file, resource, errors).check(document, documentShape(known), "");
    }

    /** Reads a string field before validation, to name the resource in error messages. */
    private static String peek(Node node, String key, String subKey) {
        if (!(node instanceof MappingNode mapping)) {
            return null;
        }
        for (NodeTuple tuple : mapping.getValue()) {
            if (tuple.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key)) {
                Node value = tuple.getValueNode();
                if (subKey != null) {
                    return peek(value, subKey, null);
                }
                return value instanceof ScalarNode s ? s.getValue() : null;
            }
        }
        return null;
    }

    private static boolean isPolicyFile(Path path) {
        String name = path.getFileName().toString();
        return Files.isRegularFile(path) && !name.startsWith(".") && (name.endsWith(".yaml") || name.endsWith(".yml"));
    }
}
