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
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/**
 * Loads a directory of policy files ({@code *.yaml}, {@code *.yml}; several resources per file
 * separated by {@code ---}) into a validated {@link PolicySet}. Stateless and thread-safe.
 */
public final class PolicyLoader {
    /** The kubelet's link to the current version of a ConfigMap volume (Kubernetes' AtomicWriter). */
    private static final String KUBELET_DATA = "..data";

    private PolicyLoader() {
    }

    /**
     * Loads every {@code *.yaml} and {@code *.yml} file under {@code dir}, in path order, skipping
     * entries whose name starts with {@code .} (editors' swap files, the kubelet's own entries).
     * File names in errors are relative to {@code dir}.
     *
     * <p>A directory laid out by the kubelet for a ConfigMap or Secret volume (its files are
     * symlinks into {@code ..data}, itself a symlink to a timestamped directory that an update
     * replaces by renaming a new link over {@code ..data}) is read through {@code ..data},
     * resolved once: a load that races an update reads the old version or the new one, never a
     * mix of both.
     *
     * @throws IOException when the directory cannot be listed or a file cannot be read (also when
     *     an update removes the version being read: the next load reads the new one)
     */
    public static LoadResult loadDirectory(Path dir) throws IOException {
        requireNonNull(dir, "dir");
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + ": not a directory");
        }
        Map<String, Path> found = new TreeMap<>();
        collect(dir, "", found);
        Map<String, String> files = new LinkedHashMap<>();
        List<PolicyError> errors = new ArrayList<>();
        for (Map.Entry<String, Path> file : found.entrySet()) {
            String text = decode(file.getKey(), Files.readAllBytes(file.getValue()), errors);
            if (text != null) {
                files.put(file.getKey(), text);
            }
        }
        return load(files, errors);
    }

    private static void collect(Path dir, String prefix, Map<String, Path> found) throws IOException {
        Path data = dir.resolve(KUBELET_DATA);
        Path listed = Files.isSymbolicLink(data) && Files.isDirectory(data) ? data.toRealPath() : dir;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(listed)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.startsWith(".")) {
                    continue;
                }
                // Directory links are not followed (no cycles); file links are, as the kubelet's are.
                if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    collect(entry, prefix + name + "/", found);
                } else if ((name.endsWith(".yaml") || name.endsWith(".yml")) && Files.isRegularFile(entry)) {
                    found.put(prefix + name, entry);
                }
            }
        }
    }

    /** Loads policies from in-memory files: file name to YAML text, in the given order. */
    public static LoadResult load(Map<String, String> files) {
        requireNonNull(files, "files");
        return load(files, new ArrayList<>());
    }

    private static LoadResult load(Map<String, String> files, List<PolicyError> errors) {
        ResourceBinder binder = new ResourceBinder(errors);
        Map<String, Location> sources = new java.util.TreeMap<>();
        for (Map.Entry<String, String> file : files.entrySet()) {
            for (Node document : YamlDocuments.parse(file.getKey(), file.getValue(), errors)) {
                Checked checked = checkDocument(file.getKey(), document, errors);
                if (checked != null) {
                    String namespace = peek(document, "metadata", "namespace");
                    sources.put(LoadResult.sourceKey(namespace, peek(document, "kind", null), peek(document, "metadata", "name")),
                            checked.location());
                    if (Kinds.MODEL_ROUTE.equals(peek(document, "kind", null))) { // the filter knows a route by its model
                        sources.put(LoadResult.sourceKey(namespace, "model", peek(document, "spec", "model")), checked.location());
                    }
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
        return new LoadResult(policies, List.of(), sources);
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
}
