package io.aimesh.filter.extproc;

/**
 * An OpenAI-style error the filter answers with instead of forwarding the request.
 *
 * @param status the HTTP status
 * @param type OpenAI's error type, e.g. {@code invalid_request_error}, {@code tokens}
 * @param code OpenAI's error code, e.g. {@code rate_limit_exceeded}, or {@code null}
 * @param param the request field at fault, or {@code null}
 * @param decision the {@code x-aimesh-decision} value that explains it
 */
record ErrorReply(int status, String message, String type, String code, String param, String decision) {

    String json() {
        return "{\"error\":{\"message\":" + quote(message) + ",\"type\":" + quote(type) + ",\"param\":" + quote(param)
                + ",\"code\":" + quote(code) + "}}";
    }

    static String quote(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
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
