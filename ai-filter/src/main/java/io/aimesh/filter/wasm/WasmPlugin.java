package io.aimesh.filter.wasm;

import static java.util.Objects.requireNonNull;

import com.dylibso.chicory.compiler.MachineFactoryCompiler;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import io.roastedroot.proxywasm.LogHandler;
import io.roastedroot.proxywasm.LogLevel;
import io.roastedroot.proxywasm.MetricType;
import io.roastedroot.proxywasm.MetricsHandler;
import io.roastedroot.proxywasm.PluginFactory;
import io.roastedroot.proxywasm.internal.ArrayProxyMap;
import io.roastedroot.proxywasm.internal.HttpRequestAdaptor;
import io.roastedroot.proxywasm.internal.HttpRequestBody;
import io.roastedroot.proxywasm.internal.PluginHttpContext;
import io.roastedroot.proxywasm.internal.ProxyMap;
import io.roastedroot.proxywasm.internal.SendResponse;
import io.roastedroot.proxywasm.internal.WasmResult;
import java.io.ByteArrayInputStream;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One proxy-wasm plugin (an Envoy wasm plugin's {@code .wasm}) run in this process on the Chicory
 * WebAssembly runtime (through {@code proxy-wasm-java-host}): parsed, and with
 * {@link Engine#COMPILER} compiled to JVM bytecode, once; an instance of it per thread that runs a
 * request, created at the thread's first request, so no request waits for another's instance.
 * Proxy-wasm instances keep state between requests and are not thread-safe, so they are never
 * shared. The plugin's log lines go to this process's log under the plugin's name; the metrics it
 * defines are added up over its instances ({@link #metric}).
 *
 * <p>Thread-safe. Covers the request phases (headers, then the body whole); a plugin that
 * answers locally ({@code send_http_response}) ends the request with its answer.
 */
public final class WasmPlugin implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(WasmPlugin.class.getName());

    /** How the plugin's code runs: Chicory's interpreter, or compiled to JVM bytecode at load (seconds, then faster). */
    public enum Engine { INTERPRETER, COMPILER }

    /** An answer the plugin gave itself instead of letting the request through. */
    public record LocalReply(int status, List<Map.Entry<String, String>> headers, byte[] body) {
    }

    /**
     * What the plugin made of a request.
     *
     * @param headers the request's headers after the plugin, in order
     * @param body the request body after the plugin
     * @param reply the plugin's own answer, or {@code null} when the request goes on
     */
    public record RequestResult(List<Map.Entry<String, String>> headers, byte[] body, LocalReply reply) {
    }

    /** Interrupts a plugin call that runs past its time: Chicory checks the thread's interrupt in its loops. */
    private static final java.util.concurrent.ScheduledExecutorService WATCHDOG =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread thread = new Thread(r, "aimesh-plugin-watchdog");
                thread.setDaemon(true);
                return thread;
            });

    private final String name;
    private final PluginFactory factory;
    /** The most a request's phases may take, in nanoseconds; 0 for no limit. */
    private final long timeoutNanos;
    private final ThreadLocal<io.roastedroot.proxywasm.internal.Plugin> instances = new ThreadLocal<>();
    private final List<io.roastedroot.proxywasm.internal.Plugin> created = new CopyOnWriteArrayList<>();
    private final Metrics metrics = new Metrics();

    private WasmPlugin(String name, PluginFactory factory, java.time.Duration timeout) {
        this.name = name;
        this.factory = factory;
        this.timeoutNanos = timeout.toNanos();
    }

    /**
     * Parses (and compiles) {@code wasm}; instances come later, one per thread.
     *
     * @param configuration what the plugin reads as its plugin configuration (Envoy's {@code configuration})
     * @throws IllegalArgumentException when {@code wasm} is not a WebAssembly module
     */
    public static WasmPlugin load(String name, byte[] wasm, String configuration, Engine engine) {
        return load(name, wasm, configuration, engine, java.time.Duration.ZERO);
    }

    /**
     * As {@link #load(String, byte[], String, Engine)}, with a time limit: a request whose phases
     * run longer fails ({@link WasmPluginException}) and its instance is replaced.
     *
     * @param timeout the most a request's phases may take; zero for no limit
     */
    public static WasmPlugin load(String name, byte[] wasm, String configuration, Engine engine, java.time.Duration timeout) {
        requireNonNull(name, "name");
        requireNonNull(timeout, "timeout");
        requireNonNull(configuration, "configuration");
        WasmModule module;
        try {
            module = Parser.parse(requireNonNull(wasm, "wasm"));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("plugin " + name + ": not a WebAssembly module (" + e.getMessage() + ")", e);
        }
        WasmPlugin[] self = new WasmPlugin[1];
        PluginFactory.Builder builder = PluginFactory.builder(module).withName(name).withPluginConfig(configuration)
                .withLogger(new LogHandler() {
                    @Override
                    public void log(LogLevel level, String message) {
                        LOG.log(level(level), "plugin " + name + ": " + message);
                    }
                })
                .withMetricsHandler(new MetricsHandler() {
                    @Override
                    public int defineMetric(MetricType type, String metric) {
                        return self[0].metrics.define(metric);
                    }

                    @Override
                    public WasmResult incrementMetric(int id, long value) {
                        return self[0].metrics.add(id, value);
                    }

                    @Override
                    public WasmResult recordMetric(int id, long value) {
                        return self[0].metrics.set(id, value);
                    }

                    @Override
                    public long getMetric(int id) {
                        return self[0].metrics.get(id);
                    }
                });
        if (engine == Engine.COMPILER) {
            builder.withMachineFactory(MachineFactoryCompiler.compile(module)); // once, shared by every instance
        }
        self[0] = new WasmPlugin(name, builder.build(), timeout);
        return self[0];
    }

    public String name() {
        return name;
    }

    /**
     * Runs the request phases on this thread's instance: request headers, then (when there is one)
     * the body, whole.
     *
     * @param headers the request's headers, pseudo-headers ({@code :method}, {@code :path}) included
     * @throws WasmPluginException when the plugin traps or fails to start
     */
    public RequestResult onRequest(List<Map.Entry<String, String>> headers, byte[] body) {
        ArrayProxyMap requestHeaders = new ArrayProxyMap();
        headers.forEach(header -> requestHeaders.add(header.getKey(), header.getValue()));
        PluginHttpContext request;
        try {
            request = instance().createHttpContext(new Request(requestHeaders));
        } catch (RuntimeException e) {
            throw new WasmPluginException("plugin " + name + " failed to start a request: " + e, e);
        }
        boolean trapped = false;
        Watch watch = timeoutNanos > 0 ? new Watch(Thread.currentThread(), timeoutNanos) : null;
        try {
            request.setHttpRequestBodyState(new HttpRequestBody(() -> new ByteArrayInputStream(body)));
            request.context().callOnRequestHeaders(body.length == 0);
            SendResponse sent = request.consumeSentHttpResponse();
            if (sent == null && body.length > 0) {
                request.context().callOnRequestBody(true);
                sent = request.consumeSentHttpResponse();
            }
            if (sent != null) {
                return new RequestResult(entries(requestHeaders), body, new LocalReply(sent.statusCode(),
                        sent.headers() == null ? List.of() : entries(sent.headers()), sent.body() == null ? new byte[0] : sent.body()));
            }
            byte[] rewritten = request.getHttpRequestBody();
            return new RequestResult(entries(requestHeaders), rewritten == null ? body : rewritten, null);
        } catch (RuntimeException | AssertionError e) {
            // A trap (a Go panic, an out-of-bounds access, proc_exit) leaves the instance in an unknown state.
            trapped = true;
            if (watch != null && watch.fired()) {
                throw new WasmPluginException("plugin " + name + " ran past its " + timeoutNanos / 1_000_000 + " ms", e);
            }
            throw new WasmPluginException("plugin " + name + " failed: " + e, e);
        } finally {
            if (watch != null) {
                watch.stop();
            }
            try {
                request.context().close();
            } catch (RuntimeException | AssertionError ignored) {
                // closing a context of a trapped instance; the instance goes next
            }
            if (trapped) {
                discardInstance(); // this thread gets a new one at its next request
            }
        }
    }

    /** Every metric the plugin defined, by name, with its value over all its instances. */
    public Map<String, Long> metrics() {
        return metrics.all();
    }

    /** The value of the metric the plugin defined as {@code metric}, over all its instances; 0 if none. */
    public long metric(String metric) {
        return metrics.byName(metric);
    }

    private io.roastedroot.proxywasm.internal.Plugin instance() {
        io.roastedroot.proxywasm.internal.Plugin plugin = instances.get();
        if (plugin == null) {
            try {
                plugin = (io.roastedroot.proxywasm.internal.Plugin) factory.create();
            } catch (Exception e) {
                throw new WasmPluginException("plugin " + name + " did not start: " + e, e);
            }
            created.add(plugin);
            instances.set(plugin);
        }
        return plugin;
    }

    private void discardInstance() {
        io.roastedroot.proxywasm.internal.Plugin plugin = instances.get();
        instances.remove();
        if (plugin != null) {
            created.remove(plugin);
            try {
                plugin.close();
            } catch (RuntimeException | AssertionError ignored) {
                // it trapped; nothing more to save
            }
        }
    }

    @Override
    public void close() {
        for (io.roastedroot.proxywasm.internal.Plugin plugin : created) {
            plugin.close();
        }
        created.clear();
    }

    private static List<Map.Entry<String, String>> entries(ProxyMap map) {
        List<Map.Entry<String, String>> entries = new ArrayList<>();
        for (Map.Entry<String, String> entry : map.entries()) {
            entries.add(Map.entry(entry.getKey(), entry.getValue()));
        }
        return entries;
    }

    private static Level level(LogLevel level) {
        return switch (level) {
            case TRACE -> Level.TRACE;
            case DEBUG -> Level.DEBUG;
            case INFO -> Level.INFO;
            case WARN -> Level.WARNING;
            case ERROR, CRITICAL -> Level.ERROR;
        };
    }

    /**
     * Interrupts {@code thread} after {@code nanos} unless stopped first. The thread is a request
     * thread that goes on serving others: the interrupt is sent only while the call runs, and
     * {@link #stop} clears any it left.
     */
    private static final class Watch {
        private final Thread thread;
        private final java.util.concurrent.ScheduledFuture<?> alarm;
        private boolean running = true;
        private boolean fired;

        Watch(Thread thread, long nanos) {
            this.thread = thread;
            this.alarm = WATCHDOG.schedule(this::fire, nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        }

        private synchronized void fire() {
            if (running) {
                fired = true;
                thread.interrupt();
            }
        }

        synchronized boolean fired() {
            return fired;
        }

        void stop() {
            synchronized (this) {
                running = false;
            }
            alarm.cancel(false);
            Thread.interrupted(); // the flag, if the alarm went off, must not reach the next request on this thread
        }
    }

    /** The metrics a plugin defines, by name: an instance per thread defines each again, and gets the same one. */
    private static final class Metrics {
        private final Map<String, Integer> ids = new ConcurrentHashMap<>();
        private final Map<Integer, AtomicLong> values = new ConcurrentHashMap<>();
        private final AtomicInteger next = new AtomicInteger();

        int define(String name) {
            return ids.computeIfAbsent(name, n -> {
                int id = next.getAndIncrement();
                values.put(id, new AtomicLong());
                return id;
            });
        }

        WasmResult add(int id, long value) {
            AtomicLong metric = values.get(id);
            if (metric == null) {
                return WasmResult.NOT_FOUND;
            }
            metric.addAndGet(value);
            return WasmResult.OK;
        }

        WasmResult set(int id, long value) {
            AtomicLong metric = values.get(id);
            if (metric == null) {
                return WasmResult.NOT_FOUND;
            }
            metric.set(value);
            return WasmResult.OK;
        }

        long get(int id) {
            AtomicLong metric = values.get(id);
            return metric == null ? 0 : metric.get();
        }

        Map<String, Long> all() {
            Map<String, Long> all = new java.util.TreeMap<>();
            ids.forEach((name, id) -> all.put(name, get(id)));
            return all;
        }

        long byName(String name) {
            Integer id = ids.get(name);
            return id == null ? 0 : get(id);
        }
    }

    /** The request as the plugin sees it: its headers; no trailers, properties or gRPC metadata. */
    private record Request(ArrayProxyMap headers) implements HttpRequestAdaptor {
        @Override
        public String remoteAddress() {
            return "";
        }

        @Override
        public int remotePort() {
            return 0;
        }

        @Override
        public String localAddress() {
            return "";
        }

        @Override
        public int localPort() {
            return 0;
        }

        @Override
        public String protocol() {
            return "HTTP/1.1";
        }

        @Override
        public ProxyMap getHttpRequestHeaders() {
            return headers;
        }

        @Override
        public ProxyMap getHttpRequestTrailers() {
            return new ArrayProxyMap();
        }

        @Override
        public ProxyMap getHttpResponseHeaders() {
            return new ArrayProxyMap();
        }

        @Override
        public ProxyMap getHttpResponseTrailers() {
            return new ArrayProxyMap();
        }

        @Override
        public ProxyMap getGrpcReceiveInitialMetaData() {
            return new ArrayProxyMap();
        }

        @Override
        public ProxyMap getGrpcReceiveTrailerMetaData() {
            return new ArrayProxyMap();
        }

        @Override
        public byte[] getProperty(PluginHttpContext request, List<String> path) {
            return null;
        }

        @Override
        public WasmResult setProperty(PluginHttpContext request, List<String> path, byte[] value) {
            return WasmResult.UNIMPLEMENTED;
        }
    }
}
