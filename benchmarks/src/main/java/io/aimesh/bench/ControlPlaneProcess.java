package io.aimesh.bench;

import io.aimesh.testing.Ports;
import io.aimesh.internal.ChildProcess;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The control plane in a child JVM ({@code -Xmx1g -XX:+UseG1GC}, this JVM's classpath), so
 * that its heap holds nothing of the benchmark's. Output goes to a temporary log file,
 * deleted on {@link #close()}. Not thread-safe.
 */
final class ControlPlaneProcess implements AutoCloseable {
    static final List<String> JVM_FLAGS = List.of("-Xmx1g", "-XX:+UseG1GC");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final Pattern HEAP_USED = Pattern.compile("heap\\s+total\\s+\\d+K,\\s+used\\s+(\\d+)K");
    private static final Pattern RSS = Pattern.compile("VmRSS:\\s+(\\d+) kB");

    private final Process process;
    private final int xdsPort;
    private final int adminPort;
    private final Path log;

    private ControlPlaneProcess(Process process, int xdsPort, int adminPort, Path log) {
        this.process = process;
        this.xdsPort = xdsPort;
        this.adminPort = adminPort;
        this.log = log;
    }

    /** Starts the control plane on free loopback ports and waits until {@code /readyz} answers 200. */
    static ControlPlaneProcess start(Path policies) throws IOException, InterruptedException {
        List<Ports.Held> ports = List.of(Ports.hold(), Ports.hold(), Ports.hold());
        ports.forEach(Ports.Held::release); // the control plane binds them as it starts
        Path log = Files.createTempFile("aimesh-fanout-control-plane-", ".log");
        List<String> command = new ArrayList<>();
        command.add(jdkTool("java"));
        command.addAll(JVM_FLAGS);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), ControlPlaneMain.class.getName(),
                policies.toString(), Integer.toString(ports.get(0).port()), Integer.toString(ports.get(1).port()),
                Integer.toString(ports.get(2).port())));
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        ControlPlaneProcess controlPlane = new ControlPlaneProcess(process, ports.get(0).port(), ports.get(1).port(), log);
        try {
            controlPlane.awaitReady(Duration.ofSeconds(30));
            return controlPlane;
        } catch (IOException | RuntimeException | InterruptedException e) {
            controlPlane.close();
            throw e;
        }
    }

    int xdsPort() {
        return xdsPort;
    }

    long pid() {
        return process.pid();
    }

    /** Live heap in KiB: a full GC ({@code jcmd GC.run}), then the used size from {@code jcmd GC.heap_info}. */
    long liveHeapKb() throws IOException, InterruptedException {
        jcmd("GC.run");
        String info = jcmd("GC.heap_info");
        Matcher used = HEAP_USED.matcher(info);
        if (!used.find()) {
            throw new IllegalStateException("cannot find the used heap size in jcmd GC.heap_info:\n" + info);
        }
        return Long.parseLong(used.group(1));
    }

    /** Resident set size in KiB (heap, metaspace, thread stacks and Netty's direct buffers), or -1 off Linux. */
    long rssKb() throws IOException {
        Path status = Path.of("/proc", Long.toString(process.pid()), "status");
        if (!Files.isReadable(status)) {
            return -1;
        }
        Matcher rss = RSS.matcher(Files.readString(status));
        return rss.find() ? Long.parseLong(rss.group(1)) : -1;
    }

    /** The admin {@code /metrics} page, Prometheus text format. */
    String metrics() throws IOException, InterruptedException {
        HttpResponse<String> response = get("/metrics");
        if (response.statusCode() != 200) {
            throw new IllegalStateException("/metrics answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    /** The last {@code lines} lines of the control plane's output, for failure messages. */
    String logTail(int lines) throws IOException {
        List<String> all = Files.readAllLines(log);
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    private void awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("control plane exited with " + process.exitValue() + ":\n" + logTail(30));
            }
            try {
                if (get("/readyz").statusCode() == 200) {
                    return;
                }
            } catch (ConnectException e) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("control plane not ready after " + timeout + ":\n" + logTail(30));
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                .timeout(Duration.ofSeconds(10))
                .build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private String jcmd(String command) throws IOException, InterruptedException {
        Process jcmd = new ProcessBuilder(jdkTool("jcmd"), Long.toString(process.pid()), command)
                .redirectErrorStream(true)
                .start();
        String output = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!jcmd.waitFor(60, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
            jcmd.destroyForcibly();
            throw new IllegalStateException("jcmd " + process.pid() + " " + command + " failed:\n" + output);
        }
        return output;
    }

    private static String jdkTool(String name) {
        Path tool = Path.of(System.getProperty("java.home"), "bin", name);
        if (!Files.isExecutable(tool)) {
            throw new IllegalStateException(tool + " not found: run the benchmark on a JDK, not a JRE");
        }
        return tool.toString();
    }

    /** Terminates the process (SIGTERM, then SIGKILL after 10 s) and deletes its log. */
    @Override
    public void close() throws IOException {
        ChildProcess.stop(process);
        Files.deleteIfExists(log);
    }
}
