package io.aimesh.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Loopback ports for processes that bind them later, and the only way the tests and benchmarks
 * choose one. A port merely found free (bind to 0, read the port, close) is free only for that
 * moment: while its number travels through a policy file, the control plane and xDS to the Envoy
 * that will bind it, the kernel may hand it to some client as an ephemeral port, and the bind
 * fails in a way no retry explains. So a port is <em>held</em>, bound by a {@link ServerSocket}
 * with {@code SO_REUSEADDR} (so its release leaves no {@code TIME_WAIT} in the way), and the
 * caller releases it right before the process that needs it binds it.
 *
 * <p>Thread-safe.
 */
public final class Ports {
    private Ports() {
    }

    /** Holds a free loopback port until {@link Held#release}. */
    public static Held hold() {
        try {
            ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress("127.0.0.1", 0));
            return new Held(socket);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind a loopback port", e);
        }
    }

    /** A held port; {@link #close} releases it too, so a held port can live in try-with-resources. */
    public static final class Held implements AutoCloseable {
        private final ServerSocket socket;
        private final int port;

        private Held(ServerSocket socket) {
            this.socket = socket;
            this.port = socket.getLocalPort();
        }

        /** The port number, valid also after the release. */
        public int port() {
            return port;
        }

        /** Releases the port: call right before the process that needs it binds it. Idempotent. */
        public void release() {
            try {
                socket.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot release port " + port, e);
            }
        }

        @Override
        public void close() {
            release();
        }

        @Override
        public String toString() {
            return "127.0.0.1:" + port + (socket.isClosed() ? "" : " (held)");
        }
    }
}
