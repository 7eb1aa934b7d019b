package io.aimesh.filter.body;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Strict UTF-8 validation (Unicode 15, table 3-7): no overlong forms, no surrogates, nothing above
 * U+10FFFF. Jackson checks the bytes of the strings it decodes but not of those it skips, and
 * reports neither the offset nor overlong forms, so the body is validated once up front.
 *
 * <p>Eight ASCII bytes are checked at a time; request bodies are mostly ASCII.
 */
final class Utf8 {

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;

    private Utf8() {
    }

    /**
     * Returns the offset of the first byte that does not start a valid sequence (a stray continuation
     * byte, or the lead byte of a sequence that is invalid or cut short), or -1 if all are valid.
     */
    static int firstInvalidByte(byte[] bytes) {
        int i = 0;
        int n = bytes.length;
        while (i < n) {
            if (i + 8 <= n && ((long) LONGS.get(bytes, i) & HIGH_BITS) == 0) {
                i += 8;
                continue;
            }
            int b = bytes[i] & 0xFF;
            if (b < 0x80) {
                i++;
                continue;
            }
            int length = sequenceLength(bytes, i, b);
            if (length < 0) {
                return i;
            }
            i += length;
        }
        return -1;
    }

    /** The length of the valid sequence starting at {@code i}, or -1. */
    private static int sequenceLength(byte[] bytes, int i, int lead) {
        int length;
        int min = 0x80;
        int max = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            if (lead == 0xE0) {
                min = 0xA0; // overlong
            } else if (lead == 0xED) {
                max = 0x9F; // UTF-16 surrogates
            }
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            if (lead == 0xF0) {
                min = 0x90; // overlong
            } else if (lead == 0xF4) {
                max = 0x8F; // above U+10FFFF
            }
        } else {
            return -1; // a continuation byte, C0, C1 or F5..FF
        }
        for (int k = 1; k < length; k++) {
            if (i + k >= bytes.length) {
                return -1;
            }
            int b = bytes[i + k] & 0xFF;
            if (b < min || b > max) {
                return -1;
            }
            min = 0x80;
            max = 0xBF;
        }
        return length;
    }
}
