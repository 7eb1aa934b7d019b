package io.aimesh.modelsim;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A simulated OpenAI-compatible LLM inference server: {@code POST /v1/chat/completions},
 * {@code POST /v1/completions} (streaming or not), {@code GET /v1/models}, {@code GET /health} and
 * vLLM-compatible Prometheus metrics on {@code GET /metrics}, answered by one simulated GPU that
 * batches requests continuously and is bounded by sequence slots and KV cache. Every response carries
 * {@code x-model-sim-instance} and {@code x-model-sim-version} headers.
 *
 * <p>For one seed, the same requests in the same order get the same output lengths, texts and
 * injected failures. Several servers may run in one JVM; each owns one engine thread, an HTTP
 * dispatcher thread and up to {@value #MAX_HANDLER_THREADS} handler threads (created on demand,
 * retired after 30 s idle). Handler threads block while their request waits for tokens, so beyond
 * that many concurrent requests further ones queue for a thread.
 *
 * <p>Threading: all methods are thread-safe.
 */
public final class ModelSimServer implements AutoCloseable {

    static {
        // Streams are written a few bytes per token; with Nagle's algorithm on, a token chunk
        // waits for the client's (delayed, up to 40 ms) ACK of the previous one. The JDK server
        // reads this property once, so set it before the first server is created unless the user
        // chose otherwise.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private static final System.Logger LOGGER = System.getLogger(ModelSimServer.class.getName());
    static final int MAX_HANDLER_THREADS = 256;
    private static final int BACKLOG = 1024;
    private static final long DRAIN_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final HttpServer http;
    private final InferenceEngine engine;
    private final ApiRouter router;
    private final ThreadPoolExecutor executor;
    private final CountDownLatch shutdown;
    private final int port;
    private final String instanceName;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ModelSimServer(HttpServer http, InferenceEngine engine, ApiRouter router, ThreadPoolExecutor executor,
            CountDownLatch shutdown, String instanceName) {
        this.http = http;
        this.engine = engine;
        this.router = router;
        this.executor = executor;
        this.shutdown = shutdown;
        this.port = http.getAddress().getPort();
        this.instanceName = instanceName;
    }

    /**
     * Binds {@code config.host():config.port()} and starts serving.
     *
     * @throws IOException if the address cannot be resolved or bound, e.g. the port is taken
     */
    public static ModelSimServer start(ModelSimConfig config) throws IOException {
        requireNonNull(config, "config");
        InetSocketAddress address = new InetSocketAddress(config.host(), config.port());
        if (address.isUnresolved()) {
            throw new UnknownHostException("host: " + config.host() + " (expected: a resolvable host)");
        }
        HttpServer http = HttpServer.create(address, BACKLOG);
        InetSocketAddress bound = http.getAddress();
        String instanceName = config.instanceName() != null
                ? config.instanceName()
                : bound.getHostString() + ":" + bound.getPort();

        VllmMetrics metrics = new VllmMetrics(config.model());
        InferenceEngine engine = new InferenceEngine(GpuProfile.DEFAULT, config.speed(), config.maxSeqs(),
                new KvCache(config.kvTokens(), config.blockSize(), config.prefixCaching()),
                new LoraSlots(config.maxLoras(), Math.round(config.loraLoadMillis() * 1e6)), metrics,
                "model-sim-engine-" + instanceName);
        metrics.registerGauges(engine);
        CountDownLatch shutdown = new CountDownLatch(1);
        CompletionHandler completions = new CompletionHandler(config.model(), config.loraAdapters(), engine,
                new OutcomeSampler(config.seed(), config.failRate()),
                TimeUnit.MILLISECONDS.toNanos(config.extraLatencyMs()), shutdown);
        ApiRouter router = new ApiRouter(instanceName, config.version(), config.model(), config.loraAdapters(), config.kvTokens(),
                completions, new EmbeddingHandler(config.model(), config.speed(), config.seed()), metrics, new LoadReport(engine, config.maxSeqs(), System::currentTimeMillis));
        ThreadPoolExecutor executor = new ThreadPoolExecutor(MAX_HANDLER_THREADS, MAX_HANDLER_THREADS,
                30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), daemonThreads("model-sim-http-" + instanceName));
        executor.allowCoreThreadTimeOut(true);

        http.createContext("/", router);
        http.setExecutor(executor);
        engine.start();
        http.start();
        LOGGER.log(Level.INFO, "model-sim " + instanceName + " serving " + config.model() + " on port "
                + bound.getPort());
        return new ModelSimServer(http, engine, router, executor, shutdown, instanceName);
    }

    /**
     * Changes the server's faults while it runs, as the {@code --fail-rate} and
     * {@code --extra-latency-ms} flags set them at start: a version that turns bad mid-rollout.
     *
     * @param failRate probability in {@code [0, 1]} that a completion request fails with 500
     * @param extraLatencyMs delay added before each completion request is queued, {@code >= 0}
     */
    public void injectFaults(double failRate, int extraLatencyMs) {
        if (!(failRate >= 0 && failRate <= 1) || extraLatencyMs < 0) {
            throw new IllegalArgumentException("faults: failRate " + failRate + ", extraLatencyMs " + extraLatencyMs
                    + " (expected: 0..1 and >= 0)");
        }
        router.completions().injectFaults(failRate, TimeUnit.MILLISECONDS.toNanos(extraLatencyMs));
    }

    /**
     * For an oracle router in the same JVM: the nanoseconds to the first token of a chat completion
     * with this body, were it sent now, replaying this server's scheduler from its exact state (queue,
     * remaining outputs, prefix cache, adapters; see {@code EngineView}); {@link Long#MAX_VALUE} if the
     * server would refuse it. No real router can know this; it bounds what routing can achieve.
     * Thread-safe.
     */
    public long predictTtftNanos(byte[] chatBody) {
        return router.completions().predictTtftNanos(chatBody);
    }

    /**
     * Forgets the prefix cache's unused blocks and unloads idle adapters before the next request is
     * admitted, as vLLM's {@code POST /reset_prefix_cache} does for the cache. Thread-safe.
     */
    public void resetCaches() {
        engine.resetCaches();
    }

    /** Prompt tokens looked up in the prefix cache so far ({@code vllm:prefix_cache_queries_total}). Thread-safe. */
    public long prefixCacheQueriedTokens() {
        return engine.prefixQueriedTokens();
    }

    /** Prompt tokens found in the prefix cache so far ({@code vllm:prefix_cache_hits_total}). Thread-safe. */
    public long prefixCacheHitTokens() {
        return engine.prefixHitTokens();
    }

    /** The bound TCP port; the one chosen by the OS when the config asked for port 0. */
    public int port() {
        return port;
    }

    /**
     * The headers of the last API ({@code /v1/...}) request this server received, names in lower
     * case (empty before the first); lets a test see what a proxy in front forwarded. Thread-safe.
     */
    public java.util.Map<String, java.util.List<String>> lastRequestHeaders() {
        return router.lastRequestHeaders();
    }

    /** How many API ({@code /v1/...}) requests this server has received. Thread-safe. */
    public long apiRequests() {
        return router.apiRequests();
    }

    /** How many of them were shadow copies, marked {@code x-aimesh-shadow: true}. Thread-safe. */
    public long shadowRequests() {
        return router.shadowRequests();
    }

    /** The value of the {@code x-model-sim-instance} header, never null. */
    public String instanceName() {
        return instanceName;
    }

    /**
     * Stops serving: fails requests still queued or generating (a stream gets an error event and no
     * {@code [DONE]}, a pending non-streaming request a 503), waits up to 2 s for their responses,
     * closes every connection, joins the engine thread and frees the port. Idempotent; blocks.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        shutdown.countDown();
        engine.close();
        boolean interrupted = false;
        try {
            if (!router.awaitInFlight(DRAIN_NANOS)) {
                LOGGER.log(Level.WARNING, "model-sim " + instanceName + ": requests still in flight at close");
            }
        } catch (InterruptedException e) {
            interrupted = true;
        }
        http.stop(0);
        executor.shutdown();
        try {
            if (!executor.awaitTermination(DRAIN_NANOS, TimeUnit.NANOSECONDS)) {
                LOGGER.log(Level.WARNING, "model-sim " + instanceName + ": handler threads still running");
            }
        } catch (InterruptedException e) {
            interrupted = true;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
