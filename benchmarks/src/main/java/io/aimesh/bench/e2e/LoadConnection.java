package io.aimesh.bench.e2e;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/**
 * One keep-alive HTTP/1.1 connection of the {@link OpenLoopLoad} generator, with a reader thread
 * of its own, so that a response is read the moment it arrives whatever the pacer is doing.
 *
 * <p>Threading: the pacer thread calls {@link #send} on an idle connection only (one request at a
 * time, no pipelining) and {@link #close} after the run; the reader thread records each response
 * into {@link #stats()} and hands the connection back to the generator. {@link #stats()} may be
 * read once {@link #close} has returned (it joins the reader).
 */
final class LoadConnection {
    /** A response that has not arrived after this long counts as an error, and the connection is dropped. */
    private static final int READ_TIMEOUT_MILLIS = (int) TimeUnit.SECONDS.toMillis(60);

    private final OpenLoopLoad load;
    private final Socket socket;
    private final OutputStream out;
    private final Http1ResponseReader reader;
    private final Thread thread;
    private final LoadStats stats = new LoadStats();
    private volatile long intended;
    private volatile long sent;
    /** Whether a request is outstanding. */
    private volatile boolean busy;
    /** Whether the generator closed the connection on purpose (no error to report then). */
    private volatile boolean closing;

    private LoadConnection(OpenLoopLoad load, Socket socket, String markerHeader, String name) throws IOException {
        this.load = load;
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.reader = new Http1ResponseReader(socket.getInputStream(), markerHeader);
        this.thread = new Thread(this::readResponses, name);
        thread.setDaemon(true);
    }

    /** Connects to {@code target} and starts the reader thread. */
    static LoadConnection open(OpenLoopLoad load, InetSocketAddress target, String markerHeader, String name)
            throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(READ_TIMEOUT_MILLIS);
            socket.connect(target, 2_000);
            LoadConnection connection = new LoadConnection(load, socket, markerHeader, name);
            connection.thread.start();
            return connection;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * Writes one request; the connection must be idle.
     *
     * @param intendedNanos the {@link System#nanoTime()} the schedule meant it to be sent at
     * @return false when the write failed; the connection is closed then and must not be used again
     */
    boolean send(byte[] request, long intendedNanos) {
        intended = intendedNanos;
        busy = true;
        sent = System.nanoTime();
        try {
            out.write(request);
            out.flush();
            return true;
        } catch (IOException e) {
            busy = false;
            close();
            return false;
        }
    }

    LoadStats stats() {
        return stats;
    }

    /** Closes the socket and waits for the reader thread to end. Idempotent. */
    void close() {
        closing = true;
        try {
            socket.close();
        } catch (IOException e) {
            // closing a socket we own: nothing is lost, the reader ends on the closed socket either way
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void readResponses() {
        try {
            while (reader.next()) {
                long now = System.nanoTime();
                if (!busy) {
                    end("a response to no request");
                    return;
                }
                if (reader.status() == 200) {
                    stats.success(intended, sent, now, reader.marked());
                } else {
                    stats.error("status " + reader.status());
                }
                busy = false;
                if (reader.close()) {
                    closing = true;
                    load.answered(this, false);
                    close();
                    return;
                }
                load.answered(this, true);
            }
            end("connection closed by the server");
        } catch (IOException e) {
            end(e.toString());
        }
    }

    private void end(String cause) {
        if (closing) {
            return;
        }
        closing = true;
        if (busy) {
            busy = false;
            stats.error(cause);
            load.answered(this, false);
        } else {
            load.lost(this);
        }
        close();
    }
}
