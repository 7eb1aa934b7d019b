package io.aimesh.filter.body;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/** The one streaming JSON factory of the package (thread-safe), and how values are named in errors. */
final class Json {

    /**
     * Jackson's defaults are already strict (no comments, no single quotes, no NaN, no unescaped
     * control characters, nesting at most 1000 deep); duplicate keys are checked by the readers,
     * only for the fields they read.
     */
    static final JsonFactory FACTORY = JsonFactory.builder().build();

    /** Numbers quoted in error messages are cut to this many characters. */
    private static final int MAX_SHOWN_NUMBER = 24;

    private Json() {
    }

    /**
     * A parser that reads the bytes as UTF-8. Jackson guesses the encoding of a byte array from its
     * first four bytes: NUL bytes or a UTF-16 byte order mark make it read UTF-16 or UTF-32, which
     * no backend would, and which fails with a {@code CharConversionException} rather than a
     * {@link JsonParseException}. Such bytes can start no UTF-8 JSON text, so they are rejected as
     * malformed here.
     */
    static JsonParser utf8Parser(byte[] bytes, int offset, int length) throws IOException {
        int guess = encodingGuessAt(bytes, offset, length);
        if (guess >= 0) {
            throw new JsonParseException(null, "a NUL byte or UTF-16 byte order mark at byte " + guess
                    + " (expected: UTF-8 JSON)");
        }
        return FACTORY.createParser(bytes, offset, length);
    }

    /** The index (from {@code offset}) of a byte that would make Jackson guess UTF-16 or UTF-32, or -1. */
    static int encodingGuessAt(byte[] bytes, int offset, int length) {
        if (length >= 2 && (bytes[offset] & 0xFF) + (bytes[offset + 1] & 0xFF) == 0xFE + 0xFF
                && bytes[offset] != bytes[offset + 1]) {
            return 0;
        }
        for (int i = 0; i < Math.min(4, length); i++) {
            if (bytes[offset + i] == 0) {
                return i;
            }
        }
        return -1;
    }

    /** How the current value reads after "got": {@code a string}, {@code 10.5}, {@code an array}, .... */
    static String describe(JsonParser parser) throws IOException {
        JsonToken token = parser.currentToken();
        if (token == null) {
            return "nothing";
        }
        switch (token) {
            case VALUE_STRING:
                return "a string";
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
                String number = parser.getText();
                return number.length() <= MAX_SHOWN_NUMBER ? number : number.substring(0, MAX_SHOWN_NUMBER) + "...";
            case VALUE_TRUE:
            case VALUE_FALSE:
                return "a boolean";
            case VALUE_NULL:
                return "null";
            case START_ARRAY:
                return "an array";
            case START_OBJECT:
                return "an object";
            default:
                return token.asString();
        }
    }
}
