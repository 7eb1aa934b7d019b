package io.aimesh.istio;

import java.util.List;

/** The policies cannot be rendered for Istio as they are: every reason, each naming its resource. */
public final class RenderException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    RenderException(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    /** One line per problem, {@code Kind/name: what and why}. */
    public List<String> problems() {
        return problems;
    }
}
