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
        String secondsText = ms == 0 ? Long.toString(seconds % 60) : String.format("%d.%03d", seconds % 60, ms).replaceAll("0+$", "");
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

    static String retryAfterSeconds(long millis) {
        return Long.toString(Math.max(1, (millis + 999) / 1000));
    }
}
