package io.aimesh.bench.e2e;

import io.aimesh.filter.AiFilter;
import io.aimesh.filter.config.FilterConfigClient;
import io.aimesh.filter.config.RuntimeConfig;
import io.aimesh.filter.extproc.ExtProcService;
import io.aimesh.filter.extproc.FilterContext;
import io.aimesh.filter.extproc.FilterMetrics;
import io.aimesh.filter.limit.TokenLimiter;
import io.aimesh.internal.AdminServer;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An experiment, not a product: {@link AiFilter}'s wiring with one change, gRPC calls run on the
 * Netty event loop that read their messages ({@code directExecutor()}) instead of being handed
 * to gRPC's default cached thread pool. Every ext_proc message then costs no thread hand-off in
 * the filter. Safe only because the filter never blocks on a request's path (parsing, token
 * counting, the limiter's atomics). It measures what that change would buy; see
 * {@code --filter-executor direct}.
 */
final class DirectExecutorFilter implements AutoCloseable {
    private final AtomicReference<RuntimeConfig> config = new AtomicReference<>();
    private final FilterConfigClient configClient;
    private final Server grpc;
    private final AdminServer admin;

    DirectExecutorFilter(String controlPlane, String nodeId, int grpcPort, int adminPort) throws IOException {
        FilterMetrics metrics = new FilterMetrics();
        FilterContext context = new FilterContext(config::get,
                new TokenLimiter(System::currentTimeMillis, TokenLimiter.DEFAULT_MAX_BUDGETS), metrics);
        grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", grpcPort))
                .directExecutor()
                .addService(new ExtProcService(context))
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .build()
                .start();
        admin = new AdminServer(new InetSocketAddress("127.0.0.1", adminPort), metrics.registry(),
                () -> config.get() != null, Map.of());
        configClient = new FilterConfigClient(controlPlane, nodeId, config::set);
    }

    @Override
    public void close() {
        configClient.close();
        admin.close();
        grpc.shutdownNow();
        try {
            grpc.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
