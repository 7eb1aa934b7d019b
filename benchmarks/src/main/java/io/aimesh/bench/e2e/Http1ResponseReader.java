package io.aimesh.bench.e2e;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads HTTP/1.1 responses off one keep-alive connection: the status, whether one chosen header
 * was present, whether the server will close the connection, and the body, framed by
 * {@code content-length} or the chunked coding (Envoy re-frames a body its ext_proc filter may
 * rewrite as chunked). The body is skipped, not kept. Reuses its buffers, so reading a response
 * allocates nothing.
 *
 * <p>Not thread-safe: one reader per connection, called from the connection's reader thread.
 */
final class Http1ResponseReader {
    private static final byte[] CONTENT_LENGTH = ascii("content-length");
    private static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding");
    private static final byte[] CONNECTION = ascii("connection");
    private static final byte[] CHUNKED = ascii("chunked");
    private static final byte[] CLOSE = ascii("close");
    private static final int MAX_LINE = 16 * 1024;

    private final InputStream in;
    private final byte[] marker;
    private final byte[] buffer = new byte[16 * 1024];
    private int position;
    private int limit;
    private byte[] line = new byte[256];
    private int lineLength;

    private int status;
    private boolean marked;
    private boolean close;

    /**
     * @param in the connection's input
     * @param markerHeader a lower-case header name whose presence {@link #marked()} reports
     */
    Http1ResponseReader(InputStream in, String markerHeader) {
        this.in = in;
        this.marker = ascii(markerHeader);
    }

    /**
     * Reads the next response whole.
     *
     * @return false when the server closed the connection before the first byte of a response
     * @throws IOException on a read failure, a malformed response, or a close in the middle of one
     */
    boolean next() throws IOException {
        if (!readLine(true)) {
            return false;
        }
        status = parseStatus();
        marked = false;
        close = false;
        long contentLength = -1;
        boolean chunked = false;
        while (true) {
            readLine(false);
            if (lineLength == 0) {
                break;
            }
            int colon = indexOf((byte) ':');
            if (colon < 0) {
                throw new IOException("malformed header line: " + lineText());
            }
            if (nameIs(CONTENT_LENGTH, colon)) {
                contentLength = parseDecimal(colon + 1);
            } else if (nameIs(TRANSFER_ENCODING, colon)) {
                chunked = valueContains(CHUNKED, colon + 1);
            } else if (nameIs(CONNECTION, colon)) {
                close = valueContains(CLOSE, colon + 1);
            } else if (nameIs(marker, colon)) {
                marked = true;
            }
        }
        if (chunked) {
            skipChunkedBody();
        } else if (contentLength >= 0) {
            skip(contentLength);
        } else if (status >= 200 && status != 204 && status != 304) {
            throw new IOException("status " + status + " response without content-length or chunked body");
        }
        return true;
    }

    /** The last response's status code. */
    int status() {
        return status;
    }

    /** Whether the last response carried the marker header. */
    boolean marked() {
        return marked;
    }

    /** Whether the last response said {@code connection: close}. */
    boolean close() {
        return close;
    }

    private int parseStatus() throws IOException {
        // "HTTP/1.1 200 OK"
        if (lineLength < 12 || line[0] != 'H' || line[8] != ' ') {
            throw new IOException("malformed status line: " + lineText());
        }
        int code = 0;
        for (int i = 9; i < 12; i++) {
            int digit = line[i] - '0';
            if (digit < 0 || digit > 9) {
                throw new IOException("malformed status line: " + lineText());
            }
            code = code * 10 + digit;
        }
        return code;
    }

    private void skipChunkedBody() throws IOException {
        while (true) {
            readLine(false);
            long size = parseHex();
            if (size == 0) {
                do {
                    readLine(false); // trailers, up to the empty line
                } while (lineLength > 0);
                return;
            }
            skip(size);
            readLine(false);
            if (lineLength != 0) {
                throw new IOException("chunk not followed by CRLF");
            }
        }
    }

    /** Reads one CRLF-terminated line into {@link #line}, without the CRLF; false only at a clean end of stream. */
    private boolean readLine(boolean endAllowed) throws IOException {
        lineLength = 0;
        while (true) {
            if (position == limit && !fill()) {
                if (endAllowed && lineLength == 0) {
                    return false;
                }
                throw new EOFException("connection closed inside a response");
            }
            byte b = buffer[position++];
            if (b == '\n') {
                if (lineLength > 0 && line[lineLength - 1] == '\r') {
                    lineLength--;
                }
                return true;
            }
            if (lineLength == line.length) {
                if (line.length >= MAX_LINE) {
                    throw new IOException("line longer than " + MAX_LINE + " bytes");
                }
                line = Arrays.copyOf(line, line.length * 2);
            }
            line[lineLength++] = b;
        }
    }

    private void skip(long bytes) throws IOException {
        long remaining = bytes;
        while (remaining > 0) {
            if (position == limit && !fill()) {
                throw new EOFException("connection closed inside a body, " + remaining + " bytes short");
            }
            int n = (int) Math.min(remaining, limit - position);
            position += n;
            remaining -= n;
        }
    }

    private boolean fill() throws IOException {
        int n = in.read(buffer, 0, buffer.length);
        if (n < 0) {
            return false;
        }
        position = 0;
        limit = n;
        return true;
    }

    private int indexOf(byte b) {
        for (int i = 0; i < lineLength; i++) {
            if (line[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private boolean nameIs(byte[] lowerCaseName, int colon) {
        if (colon != lowerCaseName.length) {
            return false;
        }
        for (int i = 0; i < colon; i++) {
            if (lower(line[i]) != lowerCaseName[i]) {
                return false;
            }
        }
        return true;
    }

    private boolean valueContains(byte[] lowerCaseToken, int from) {
        outer:
        for (int i = from; i + lowerCaseToken.length <= lineLength; i++) {
            for (int j = 0; j < lowerCaseToken.length; j++) {
                if (lower(line[i + j]) != lowerCaseToken[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private long parseDecimal(int from) throws IOException {
        long value = 0;
        int digits = 0;
        for (int i = from; i < lineLength; i++) {
            byte b = line[i];
            if (b == ' ' || b == '\t') {
                continue;
            }
            if (b < '0' || b > '9' || digits == 18) {
                throw new IOException("malformed content-length: " + lineText());
            }
            value = value * 10 + (b - '0');
            digits++;
        }
        if (digits == 0) {
            throw new IOException("malformed content-length: " + lineText());
        }
        return value;
    }

    private long parseHex() throws IOException {
        long value = 0;
        int digits = 0;
        for (int i = 0; i < lineLength && line[i] != ';'; i++) {
            int digit = Character.digit(line[i], 16);
            if (digit < 0 || digits == 15) {
                throw new IOException("malformed chunk size: " + lineText());
            }
            value = value * 16 + digit;
            digits++;
        }
        if (digits == 0) {
            throw new IOException("malformed chunk size: " + lineText());
        }
        return value;
    }

    private String lineText() {
        return new String(line, 0, Math.min(lineLength, 200), StandardCharsets.ISO_8859_1);
    }

    private static byte lower(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + ('a' - 'A')) : b;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
