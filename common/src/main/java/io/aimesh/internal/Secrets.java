package io.aimesh.internal;

import java.util.regex.Pattern;

/**
 * The one redaction every log line, error message and admin page goes through when it may carry a
 * credential: a Redis URI's {@code user:password@}, or a {@code password=} parameter. The text around
 * it stays, so an operator still sees which host failed.
 */
public final class Secrets {
    /** What replaces a credential. */
    public static final String MASK = "****";
    /** A URI's user information: {@code scheme://user:password@} (RFC 3986 section 3.2.1). */
    private static final Pattern USER_INFO = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)[^/@\\s\"']*@");
    private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)(password=)[^&\\s\"']*");

    private Secrets() {
    }

    /** {@code text} with every URI's user information and every {@code password=} value masked; {@code null} stays null. */
    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        String masked = USER_INFO.matcher(text).replaceAll("$1" + MASK + "@");
        return PASSWORD_PARAMETER.matcher(masked).replaceAll("$1" + MASK);
    }
}
