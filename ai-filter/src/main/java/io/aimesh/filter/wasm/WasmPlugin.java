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
 * <p>A request is a {@link Stream}: the plugin's HTTP context from the request headers to the end
 * of the response, as in Envoy, so a plugin may keep what it learnt of the request for the
 * response. Each call on it holds its instance's lock, uncontended when (as in the filter) a
 * stream's messages come on the thread that opened it. A plugin that answers locally
 * ({@code send_http_response}) ends the request with its answer. A memory limit is written into
 * the module ({@link ModuleMemory}): an instance that would grow past it traps.
 *
 * <p>Thread-safe.
 */
public final class WasmPlugin implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(WasmPlugin.class.getName());

    /** How the plugin's code runs: Chicory's interpreter, or compiled to JVM bytecode at load (seconds, then faster). */
    public enum Engine { INTERPRETER, COMPILER }

    /** The default memory limit of an instance: what a proxy-wasm guardrail needs, with room. */
    public static final long DEFAULT_MEMORY_BYTES = 64L << 20;

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

    /**
     * What the plugin made of the response headers.
     *
     * @param headers the response's headers after the plugin, in order
     * @param reply the plugin's own answer in place of the response, or {@code null}
     */
    public record ResponseHeadersResult(List<Map.Entry<String, String>> headers, LocalReply reply) {
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
        return load(name, wasm, configuration, engine, java.time.Duration.ZERO, DEFAULT_MEMORY_BYTES);
    }

    /**
     * As {@link #load(String, byte[], String, Engine)}, with a time limit (a call that runs longer
     * fails with {@link WasmPluginException} and its instance is replaced) and a memory limit (an
     * instance that would grow past it traps).
     *
     * @param timeout the most one call (a phase) may take; zero for no limit
     * @param memoryBytes the most linear memory an instance may have
     * @throws IllegalArgumentException when {@code wasm} is not a WebAssembly module, starts with
     *     more memory than {@code memoryBytes}, or imports its memory (then it could not be capped)
     */
    public static WasmPlugin load(String name, byte[] wasm, String configuration, Engine engine, java.time.Duration timeout,
                                  long memoryBytes) {
        requireNonNull(name, "name");
        requireNonNull(timeout, "timeout");
        requireNonNull(configuration, "configuration");
        WasmModule module;
        try {
            module = Parser.parse(ModuleMemory.capped(requireNonNull(wasm, "wasm"), memoryBytes));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("plugin " + name + ": not a WebAssembly module it can run (" + e.getMessage() + ")",
                    e);
        }
        for (int i = 0; i < module.importSection().importCount(); i++) {
            if (module.importSection().getImport(i).importType() == com.dylibso.chicory.wasm.types.ExternalType.MEMORY) {
                throw new IllegalArgumentException("plugin " + name + ": the module imports its memory, which cannot be limited;"
                        + " build it to define its own (as Rust, Go and TinyGo do)");
            }
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
     * Runs the request phases of a request that has no response phases: {@link #open}, both
     * request phases, close.
     *
     * @param headers the request's headers, pseudo-headers ({@code :method}, {@code :path}) included
     * @throws WasmPluginException when the plugin traps, runs past its time or fails to start
     */
    public RequestResult onRequest(List<Map.Entry<String, String>> headers, byte[] body) {
        try (Stream stream = open(headers)) {
            return stream.request(body, true, true);
        }
    }

    /**
     * Starts a request in this thread's instance: the plugin's HTTP context for it, until
     * {@link Stream#close()}.
     *
     * @param headers the request's headers, pseudo-headers included
     * @throws WasmPluginException when the plugin fails to start
     */
    public Stream open(List<Map.Entry<String, String>> headers) {
        io.roastedroot.proxywasm.internal.Plugin instance = instance();
        Exchange exchange = new Exchange();
        headers.forEach(header -> exchange.requestHeaders.add(header.getKey(), header.getValue()));
        instance.lock();
        try {
            return new Stream(instance, exchange, instance.createHttpContext(exchange));
        } catch (RuntimeException | AssertionError e) {
            discard(instance);
            throw new WasmPluginException("plugin " + name + " failed to start a request: " + e, e);
        } finally {
            instance.unlock();
        }
    }

    /**
     * One request in the plugin: its HTTP context, from the request headers to the end of the
     * response, in the instance of the thread that opened it. After a failure (a trap, the time
     * limit) every further call fails at once: the instance is gone.
     */
    public final class Stream implements AutoCloseable {
        private final io.roastedroot.proxywasm.internal.Plugin instance;
        private final Exchange exchange;
        private final PluginHttpContext http;
        /** The response body the plugin held back (it paused on it), to be offered again with the next chunk. */
        private byte[] held = new byte[0];
        private boolean failed;
        private boolean closed;

        private Stream(io.roastedroot.proxywasm.internal.Plugin instance, Exchange exchange, PluginHttpContext http) {
            this.instance = instance;
            this.exchange = exchange;
            this.http = http;
        }

        /**
         * The request phases: headers (when {@code headersPhase}), then the body whole (when
         * {@code bodyPhase} and there is one).
         */
        public RequestResult request(byte[] body, boolean headersPhase, boolean bodyPhase) {
            return call(() -> {
                http.setHttpRequestBodyState(new HttpRequestBody(() -> new ByteArrayInputStream(body)));
                SendResponse sent = null;
                if (headersPhase) {
                    http.context().callOnRequestHeaders(body.length == 0);
                    sent = http.consumeSentHttpResponse();
                }
                if (sent == null && bodyPhase && body.length > 0) {
                    http.context().callOnRequestBody(true);
                    sent = http.consumeSentHttpResponse();
                }
                List<Map.Entry<String, String>> after = entries(exchange.requestHeaders);
                if (sent != null) {
                    return new RequestResult(after, body, reply(sent));
                }
                byte[] rewritten = http.getHttpRequestBody();
                return new RequestResult(after, rewritten == null ? body : rewritten, null);
            });
        }

        /** The response headers phase. */
        public ResponseHeadersResult responseHeaders(List<Map.Entry<String, String>> headers, boolean endOfStream) {
            return call(() -> {
                ArrayProxyMap map = new ArrayProxyMap();
                headers.forEach(header -> map.add(header.getKey(), header.getValue()));
                exchange.responseHeaders = map;
                http.context().callOnResponseHeaders(endOfStream);
                SendResponse sent = http.consumeSentHttpResponse();
                return new ResponseHeadersResult(entries(map), sent == null ? null : reply(sent));
            });
        }

        /**
         * The response body phase for one chunk. As in Envoy, a plugin that pauses on a chunk
         * (to see the body whole) holds it back: it is offered again, with what follows, at the
         * next call, and whatever is held goes on at the end of the stream.
         *
         * @return what goes on to the client now: the chunk (or all that was held) as the plugin
         *     left it, or nothing while the plugin holds it
         */
        public byte[] responseBody(byte[] chunk, boolean endOfStream) {
            return call(() -> {
                byte[] body = held.length == 0 ? chunk : concat(held, chunk);
                http.setHttpResponseBodyState(new io.roastedroot.proxywasm.internal.HttpResponseBody(body));
                io.roastedroot.proxywasm.internal.Action action = http.context().callOnResponseBody(endOfStream);
                byte[] after = http.getHttpResponseBody();
                if (action == io.roastedroot.proxywasm.internal.Action.PAUSE && !endOfStream) {
                    held = after;
                    return new byte[0];
                }
                held = new byte[0];
                return after;
            });
        }

        /** Ends the request in the plugin (its on-done and on-log callbacks); idempotent. */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            if (failed) {
                return;
            }
            instance.lock();
            try {
                io.roastedroot.proxywasm.internal.ActiveContext.activate(http.context());
                http.context().close();
            } catch (RuntimeException | AssertionError e) {
                LOG.log(Level.DEBUG, "plugin " + name + " failed closing a request: " + e);
            } finally {
                instance.unlock();
            }
        }

        private <T> T call(java.util.function.Supplier<T> phase) {
            if (failed || closed) {
                throw new WasmPluginException("plugin " + name + " failed earlier on this request", null);
            }
            Watch watch = timeoutNanos > 0 ? new Watch(Thread.currentThread(), timeoutNanos) : null;
            RuntimeException failure = null;
            instance.lock();
            try {
                // Another request's context may be the active one: host calls must reach this request's maps.
                io.roastedroot.proxywasm.internal.ActiveContext.activate(http.context());
                return phase.get();
            } catch (RuntimeException | AssertionError e) {
                // A trap (a panic, an out-of-bounds access, memory exhausted, proc_exit) leaves the instance in an unknown state.
                failed = true;
                failure = watch != null && watch.fired()
                        ? new WasmPluginException("plugin " + name + " ran past its " + timeoutNanos / 1_000_000 + " ms", e)
                        : new WasmPluginException("plugin " + name + " failed: " + e, e);
            } finally {
                if (watch != null) {
                    watch.stop();
                }
                instance.unlock();
            }
            discard(instance); // the thread gets a new one at its next request
            throw failure;
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

    /** Drops a failed instance: its thread gets a new one at its next request; requests still open on it fail. */
    private void discard(io.roastedroot.proxywasm.internal.Plugin plugin) {
        if (instances.get() == plugin) {
            instances.remove();
        }
        if (created.remove(plugin)) {
            try {
                plugin.close();
            } catch (RuntimeException | AssertionError ignored) {
                // it trapped; nothing more to save
            }
        }
    }

    private static LocalReply reply(SendResponse sent) {
        return new LocalReply(sent.statusCode(), sent.headers() == null ? List.of() : entries(sent.headers()),
                sent.body() == null ? new byte[0] : sent.body());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
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

    /** The request and its response as the plugin sees them: headers; no trailers, properties or gRPC metadata. */
    private static final class Exchange implements HttpRequestAdaptor {
        final ArrayProxyMap requestHeaders = new ArrayProxyMap();
        ArrayProxyMap responseHeaders = new ArrayProxyMap();

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
            return requestHeaders;
        }

        @Override
        public ProxyMap getHttpRequestTrailers() {
            return new ArrayProxyMap();
        }

        @Override
        public ProxyMap getHttpResponseHeaders() {
            return responseHeaders;
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
