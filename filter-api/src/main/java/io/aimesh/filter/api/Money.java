package io.aimesh.filter.api;

import static java.util.Objects.requireNonNull;

/**
 * Amounts of money as whole micro-units ({@code 1_000_000} to the currency unit) in a {@code long}:
 * exact, never a binary fraction, up to about 9.2 trillion units. Prices are micro-units per
 * million tokens; a cost rounds up to the next micro-unit, so spend is never under-counted. Both
 * the policies (parsing) and the ai-filter (charging, headers) use this one definition.
 */
public final class Money {
    /** Micro-units per currency unit. */
    public static final long MICROS = 1_000_000;
    /** The largest amount a policy may give, in currency units: keeps every sum of a period far from overflow. */
    public static final long MAX_UNITS = 1_000_000_000L;

    private Money() {
    }

    /**
     * Parses a plain decimal amount, such as {@code 12}, {@code 0.15} or {@code 1999.999999}.
     *
     * @throws IllegalArgumentException when it is not digits with at most six decimals, or exceeds {@link #MAX_UNITS}
     */
    public static long parseMicros(String amount) {
        requireNonNull(amount, "amount");
        if (!amount.matches("[0-9]{1,10}(\\.[0-9]{1,6})?")) {
            throw new IllegalArgumentException("amount: '" + amount + "' (expected: digits with at most 6 decimals, like 12.50)");
        }
        int dot = amount.indexOf('.');
        long units = Long.parseLong(dot < 0 ? amount : amount.substring(0, dot));
        if (units > MAX_UNITS) {
            throw new IllegalArgumentException("amount: " + amount + " (expected: at most " + MAX_UNITS + ")");
        }
        long fraction = 0;
        if (dot >= 0) {
            String digits = amount.substring(dot + 1);
            fraction = Long.parseLong(digits) * pow10(6 - digits.length());
        }
        return units * MICROS + fraction;
    }

    /** {@code micros} as a decimal with at least two and at most six decimals: {@code 12.50}, {@code 0.000150}, {@code -1.25}. */
    public static String format(long micros) {
        String sign = micros < 0 ? "-" : "";
        long abs = Math.abs(micros);
        String fraction = String.format(java.util.Locale.ROOT, "%06d", abs % MICROS);
        int keep = fraction.length();
        while (keep > 2 && fraction.charAt(keep - 1) == '0') {
            keep--;
        }
        return sign + abs / MICROS + "." + fraction.substring(0, keep);
    }

    /**
     * The cost of {@code tokens} at {@code microsPerMillion}, rounded up to a whole micro-unit;
     * saturates at {@link Long#MAX_VALUE} rather than overflow.
     */
    public static long cost(long tokens, long microsPerMillion) {
        if (tokens <= 0 || microsPerMillion <= 0) {
            return 0;
        }
        long high = Math.multiplyHigh(tokens, microsPerMillion);
        long product = tokens * microsPerMillion;
        if (high != 0 || product < 0) {
            return Long.MAX_VALUE;
        }
        return product / 1_000_000 + (product % 1_000_000 == 0 ? 0 : 1);
    }

    private static long pow10(int n) {
        long value = 1;
        for (int i = 0; i < n; i++) {
            value *= 10;
        }
        return value;
    }
}
