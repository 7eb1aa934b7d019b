package io.aimesh.bench.e2e;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

class Http1ResponseReaderTest {
    private static final String MARKER = "x-ratelimit-limit-tokens";

    @Test
    void next_readsContentLengthAndChunkedResponsesInARow() throws IOException {
        Http1ResponseReader reader = reader("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-RateLimit-Limit-Tokens: 9\r\n\r\nhello"
                + "HTTP/1.1 429 Too Many Requests\r\ntransfer-encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\ntrailer: x\r\n\r\n"
                + "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");

        assertThat(reader.next()).isTrue();
        assertThat(reader.status()).isEqualTo(200);
        assertThat(reader.marked()).isTrue();
        assertThat(reader.close()).isFalse();
        assertThat(reader.next()).isTrue();
        assertThat(reader.status()).isEqualTo(429);
        assertThat(reader.marked()).isFalse();
        assertThat(reader.next()).isTrue();
        assertThat(reader.close()).isTrue();
        assertThat(reader.next()).as("clean end of stream between responses").isFalse();
    }

    @Test
    void next_readsAResponseSplitIntoOneByteReads() throws IOException {
        byte[] bytes = "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabcHTTP/1.1 204 No Content\r\n\r\n".getBytes(US_ASCII);
        InputStream trickle = new InputStream() {
            private int next;

            @Override
            public int read() {
                return next < bytes.length ? bytes[next++] : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                int value = read();
                if (value < 0) {
                    return -1;
                }
                b[off] = (byte) value;
                return 1;
            }
        };
        Http1ResponseReader reader = new Http1ResponseReader(trickle, MARKER);

        assertThat(reader.next()).isTrue();
        assertThat(reader.next()).isTrue();
        assertThat(reader.status()).isEqualTo(204);
        assertThat(reader.next()).isFalse();
    }

    @Test
    void next_failsOnACloseInsideABody() {
        Http1ResponseReader reader = reader("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort");

        assertThatThrownBy(reader::next).isInstanceOf(EOFException.class).hasMessageContaining("5 bytes short");
    }

    @Test
    void next_failsOnAMalformedStatusLine() {
        assertThatThrownBy(reader("SPDY/3 what\r\n\r\n")::next).isInstanceOf(IOException.class)
                .hasMessageContaining("malformed status line");
    }

    private static Http1ResponseReader reader(String bytes) {
        return new Http1ResponseReader(new ByteArrayInputStream(bytes.getBytes(US_ASCII)), MARKER);
    }
}
