package io.aimesh.policy;

import java.util.ArrayList;
import java.util.List;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/** Splits a YAML file into its documents as position-carrying node trees. */
final class YamlDocuments {
    /** Policy files are small; a bigger one is a mistake (or an attack) and is refused before parsing. */
    static final int MAX_FILE_CHARS = 4 * 1024 * 1024;

    private YamlDocuments() {
    }

    /**
     * Returns the non-empty documents of {@code text}. A syntax error is added to {@code errors}
     * and ends the file there; the documents before it are still returned so their errors can be reported too.
     */
    static List<Node> parse(String file, String text, List<PolicyError> errors) {
        List<Node> documents = new ArrayList<>();
        if (text.length() > MAX_FILE_CHARS) {
            errors.add(new PolicyError(new Location(file, 1, 1), "",
                    "file is " + text.length() + " characters (expected: at most " + MAX_FILE_CHARS + ")"));
            return documents;
        }
        LoadSettings settings = LoadSettings.builder()
                .setLabel(file)
                .setAllowDuplicateKeys(true) // reported by ShapeChecker with the field path
                .setMaxAliasesForCollections(20)
                .setCodePointLimit(MAX_FILE_CHARS)
                .build();
        try {
            for (Node node : new Compose(settings).composeAllFromString(text)) {
                // An empty document, such as after a trailing "---", holds no resource; kubectl skips it too.
                if (node != null && !(node instanceof ScalarNode s && s.getTag().equals(Tag.NULL))) {
                    documents.add(node);
                }
            }
        } catch (MarkedYamlEngineException e) {
            Mark mark = e.getProblemMark().or(e::getContextMark).orElse(null);
            Location loc = mark == null ? new Location(file, 1, 1) : new Location(file, mark.getLine() + 1, mark.getColumn() + 1);
            String context = "";
            if (e.getContext() != null && !e.getContext().isEmpty()) {
                // Say where the unfinished construct began: an unclosed bracket is found only where parsing gives up.
                String start = e.getContextMark().filter(m -> mark == null || m.getIndex() != mark.getIndex())
                        .map(m -> " started at line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1))
                        .orElse("");
                context = e.getContext() + start + ": ";
            }
            errors.add(new PolicyError(loc, "", "YAML syntax error: " + context + e.getProblem()));
        } catch (YamlEngineException e) {
            errors.add(new PolicyError(new Location(file, 1, 1), "", "YAML error: " + e.getMessage()));
        }
        return documents;
    }

    static Location location(String file, Node node) {
        return node.getStartMark()
                .map(m -> new Location(file, m.getLine() + 1, m.getColumn() + 1))
                .orElseGet(() -> new Location(file, 1, 1));
    }
}
