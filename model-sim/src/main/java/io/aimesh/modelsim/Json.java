package io.aimesh.modelsim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.UncheckedIOException;

/** The shared, thread-safe Jackson mapper of this module, and the few ways it is used. */
final class Json {

    /** Rejects trailing content after the root value: {@code {"a":1} x} is malformed, not ignored. */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {}

    /** Returns {@code value} as a JSON string literal, quotes included. */
    static String quote(String value) {
        return MAPPER.getNodeFactory().textNode(value).toString();
    }

    /** Serializes a tree built in memory; it cannot fail, so failure is unchecked. */
    static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot serialize an in-memory JSON tree", e);
        }
    }
}
