package io.aimesh.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class PortsTest {
    @Test
    void hold_keepsThePortFromOthersUntilReleased() throws IOException {
        Ports.Held held = Ports.hold();

        assertThatThrownBy(() -> bind(held.port()).close()).isInstanceOf(BindException.class);
        held.release();
        try (ServerSocket process = bind(held.port())) {
            assertThat(process.getLocalPort()).isEqualTo(held.port());
        }
    }

    @Test
    void release_isIdempotent_andThePortNumberStays() {
        Ports.Held held = Ports.hold();
        int port = held.port();

        held.release();
        held.close();

        assertThat(held.port()).isEqualTo(port).isPositive();
    }

    private static ServerSocket bind(int port) throws IOException {
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        try {
            socket.bind(new InetSocketAddress("127.0.0.1", port));
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }
}
