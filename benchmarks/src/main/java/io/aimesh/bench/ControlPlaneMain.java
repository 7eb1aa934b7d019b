package io.aimesh.bench;

import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * The control plane as {@code aimesh control-plane} runs it (default debounce, loopback
 * binds), in a JVM of its own so that its heap can be measured alone. Runs until terminated.
 * Started by {@link ControlPlaneProcess}; arguments: {@code POLICY_DIR XDS_PORT ADMIN_PORT LISTENER_PORT}.
 */
final class ControlPlaneMain {
    private ControlPlaneMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            throw new IllegalArgumentException("usage: ControlPlaneMain POLICY_DIR XDS_PORT ADMIN_PORT LISTENER_PORT");
        }
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) { // as io.aimesh.cli.Main does
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT.%1$tL %4$-7s %3$s: %5$s%6$s%n");
        }
        ControlPlaneOptions options = ControlPlaneOptions.defaults(Path.of(args[0]))
                .withXds("127.0.0.1", Integer.parseInt(args[1]))
                .withAdmin("127.0.0.1", Integer.parseInt(args[2]))
                .withListener("127.0.0.1", Integer.parseInt(args[3]));
        ControlPlane controlPlane = ControlPlane.start(options);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                controlPlane.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, "aimesh-shutdown"));
        new CountDownLatch(1).await(); // until SIGTERM; the hook closes the control plane
    }
}
