package io.aimesh.filter.body;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/** The OpenAI inference calls the filter understands, by the path they are posted to. */
public enum RequestKind {
    /** {@code POST /v1/chat/completions}: a {@code messages} array. */
    CHAT("/v1/chat/completions"),
    /** {@code POST /v1/completions}: a {@code prompt}. */
    COMPLETION("/v1/completions"),
    /** {@code POST /v1/embeddings}: an {@code input}; never streamed. */
    EMBEDDING("/v1/embeddings");

    private final String path;

    RequestKind(String path) {
        this.path = path;
    }

    /**
     * The kind of call posted to {@code path} (Envoy's {@code :path}, query included), or empty when it
     * is not an inference call and its body need not be buffered. Matching is exact apart from the
     * query: {@code /v1/chat/completions/} is not a chat call, as it is not on OpenAI's API.
     */
    public static Optional<RequestKind> ofPath(String path) {
        requireNonNull(path, "path");
        int query = path.indexOf('?');
        String bare = query < 0 ? path : path.substring(0, query);
        for (RequestKind kind : values()) {
            if (kind.path.equals(bare)) {
                return Optional.of(kind);
            }
        }
        return Optional.empty();
    }
}
