package io.aimesh.filter.extproc;

/**
 * Formats OpenAI's rate-limit headers: {@code x-ratelimit-reset-*} values are durations the
 * way OpenAI writes them ({@code 20ms}, {@code 1s}, {@code 6m0s}, {@code 1h2m3s}), and
 * {@code retry-after} is whole seconds, rounded up.
 */
final class HeaderFormat {
    private HeaderFormat() {
    }

    static String duration(long millis) {
        if (millis < 1000) {
            return Math.max(0, millis) + "ms";
        }
        long seconds = millis / 1000;
        long ms = millis % 1000;
        // On every admitted request: no Formatter, no regex (they showed in the filter's CPU profile).
        String secondsText = ms == 0 ? Long.toString(seconds % 60) : seconds % 60 + "." + fraction(ms);
        long minutes = seconds / 60 % 60;
        long hours = seconds / 3600;
        if (hours > 0) {
            return hours + "h" + minutes + "m" + secondsText + "s";
        }
        if (minutes > 0) {
            return minutes + "m" + secondsText + "s";
        }
        return secondsText + "s";
    }

    /** {@code ms} (1 to 999) as the digits after a decimal point, without trailing zeros: 50 is "05", 500 is "5". */
    private static String fraction(long ms) {
        long digits = ms;
        int width = 3;
        while (digits % 10 == 0) {
            digits /= 10;
            width--;
        }
        String text = Long.toString(digits);
        return "0".repeat(width - text.length()) + text;
    }

    static String retryAfterSeconds(long millis) {
        return Long.toString(Math.max(1, (millis + 999) / 1000));
    }
}
