package io.aimesh.picker;

import static java.util.Objects.requireNonNull;

/**
 * What the picker looks at in a request, besides the pool's load.
 *
 * @param prompt the text whose prefix the model server's cache may already hold: a completion's
 *     prompt, or a chat's messages joined in order. Only the characters and their order matter, so
 *     any joining works as long as every request of the pool is joined the same way; {@code ""}
 *     when there is none. Not null.
 * @param loraAdapter the LoRA adapter the request asks for (the {@code model} when it names an
 *     adapter), or {@code ""} for the base model; not null
 */
public record RequestFeatures(String prompt, String loraAdapter) {
    public RequestFeatures {
        requireNonNull(prompt, "prompt");
        requireNonNull(loraAdapter, "loraAdapter");
    }

    /** A request for the base model with this prompt. */
    public static RequestFeatures of(String prompt) {
        return new RequestFeatures(prompt, "");
    }
}
