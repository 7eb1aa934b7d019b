package io.aimesh.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real Redis for tests: Debian's {@code redis-server} (installed by {@code .ci/run}) on a free
 * loopback port, without persistence unless {@link #startPersistent} (an append-only file synced on
 * every write). It can be stopped and started again on the same port.
 */
public final class RedisServer implements AutoCloseable {
    private final int port;
    private final Path dir;
    /** The port, held until the first start binds it; {@code null} after. */
    private Ports.Held hold;
    private Process process;
    private final boolean persistent;

    private RedisServer(Ports.Held hold, Path dir, boolean persistent) {
        this.hold = hold;
        this.port = hold.port();
        this.dir = dir;
        this.persistent = persistent;
    }

    public static RedisServer start() throws IOException {
        RedisServer server = new RedisServer(Ports.hold(), Files.createTempDirectory("aimesh-redis-"), false);
        server.startAgain();
        return server;
    }

    /** A Redis that keeps its data across {@link #stop} and {@link #startAgain}: an append-only file, fsync on every write. */
    public static RedisServer startPersistent() throws IOException {
        RedisServer server = new RedisServer(Ports.hold(), Files.createTempDirectory("aimesh-redis-"), true);
        server.startAgain();
        return server;
    }

    public int port() {
        return port;
    }

    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** Starts the server (again) on its port and waits until it answers PING. */
    public void startAgain() throws IOException {
        String binary = System.getenv().getOrDefault("AIMESH_REDIS", "redis-server");
        if (hold != null) {
            hold.release();
            hold = null;
        }
        try {
            process = new ProcessBuilder(List.of(binary, "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", persistent ? "yes" : "no", "--appendfsync", "always", "--dir", dir.toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("redis.log").toFile())
                    .start();
        } catch (IOException e) {
            throw new IOException("cannot run '" + binary + "': install it (apt-get install -y redis-server, as .ci/run "
                    + "does) or set AIMESH_REDIS to its path", e);
        }
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(this::answersPing);
    }

    /** Stops the server; its counts are gone unless it is persistent. */
    public void stop() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }

    /** The integer at {@code key}, or 0 when it is absent. */
    public long get(String key) throws IOException {
        String reply = command("GET", key);
        return reply.startsWith("$-1") ? 0 : Long.parseLong(reply.split("\r\n")[1]);
    }

    private boolean answersPing() throws IOException {
        return command("PING").startsWith("+PONG");
    }

    private String command(String... parts) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            socket.setSoTimeout(1_000);
            StringBuilder request = new StringBuilder("*").append(parts.length).append("\r\n");
            for (String part : parts) {
                request.append('$').append(part.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(part).append("\r\n");
            }
            OutputStream out = socket.getOutputStream();
            out.write(request.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[512];
            int n = in.read(buffer);
            String reply = new String(buffer, 0, Math.max(0, n), StandardCharsets.UTF_8);
            if (reply.startsWith("$") && !reply.startsWith("$-1") && reply.indexOf("\r\n") == reply.length() - 2) {
                n = in.read(buffer);
                reply += new String(buffer, 0, Math.max(0, n), StandardCharsets.UTF_8);
            }
            return reply;
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (hold != null) {
            hold.release();
        }
        if (process != null && process.isAlive()) {
            stop();
        }
    }
}
