package io.aimesh.filter.body;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Utf8Test {

    @ParameterizedTest
    @CsvSource({
        "'', -1",
        "7b 22 61 22 7d, -1",                        // ASCII
        "c3 a9 e2 82 ac f0 9f 98 80, -1",            // é € 😀
        "ef bf bf f4 8f bf bf, -1",                  // U+FFFF, U+10FFFF
        "41 80, 1",                                  // stray continuation byte
        "41 c0 af, 1",                               // overlong '/'
        "c1 bf, 0",                                  // overlong
        "e0 80 af, 0",                               // overlong 3-byte
        "f0 8f bf bf, 0",                            // overlong 4-byte
        "ed a0 80, 0",                               // UTF-16 surrogate U+D800
        "f4 90 80 80, 0",                            // above U+10FFFF
        "f5 80 80 80, 0",                            // lead byte never valid
        "41 42 e2 82, 2",                            // cut short at the end
        "c3 41, 0",                                  // missing continuation
        "41 41 41 41 41 41 41 41 41 ff, 9"})         // after the 8-byte ASCII fast path
    void firstInvalidByte_findsTheLeadOfTheFirstBadSequence(String hex, int expected) {
        assertThat(Utf8.firstInvalidByte(bytes(hex))).isEqualTo(expected);
    }

    @Test
    void firstInvalidByte_agreesWithTheJdkDecoder_onRandomBytes() {
        Random random = new Random(20240601);
        CharsetDecoder decoder = UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        for (int run = 0; run < 20_000; run++) {
            byte[] bytes = new byte[random.nextInt(24)];
            for (int i = 0; i < bytes.length; i++) {
                // Mostly ASCII and valid lead/continuation bytes, so that valid sequences occur too.
                int kind = random.nextInt(4);
                bytes[i] = (byte) (kind == 0 ? random.nextInt(0x80) : kind == 1 ? 0x80 + random.nextInt(0x40)
                        : kind == 2 ? 0xC0 + random.nextInt(0x40) : random.nextInt(256));
            }
            boolean jdkValid;
            try {
                decoder.reset().decode(ByteBuffer.wrap(bytes));
                jdkValid = true;
            } catch (CharacterCodingException e) {
                jdkValid = false;
            }
            assertThat(Utf8.firstInvalidByte(bytes) < 0).as("valid %s", HexFormat.of().formatHex(bytes))
                    .isEqualTo(jdkValid);
        }
    }

    private static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }
}
