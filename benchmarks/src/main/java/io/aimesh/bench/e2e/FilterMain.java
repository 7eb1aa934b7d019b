package io.aimesh.bench.e2e;

import io.aimesh.filter.AiFilter;
import io.aimesh.filter.AiFilterOptions;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;

/**
 * The entry point of the ai-filter's JVM ({@link ExtProcServerProcess}):
 * {@code CONTROL_PLANE GRPC_PORT ADMIN_PORT}, all on loopback: the filter as shipped
 * ({@link AiFilter}). Runs until the process is terminated.
 */
public final class FilterMain {
    private static final String NODE_ID = "aimesh-bench-filter";

    private FilterMain() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length != 3) {
            System.err.println("usage: FilterMain CONTROL_PLANE_HOST:PORT GRPC_PORT ADMIN_PORT");
            System.exit(2);
        }
        int grpcPort = Integer.parseInt(args[1]);
        int adminPort = Integer.parseInt(args[2]);
        AiFilter filter = AiFilter.start(new AiFilterOptions(args[0], NODE_ID, "127.0.0.1", grpcPort, "127.0.0.1", adminPort));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                filter.close();
            } catch (Exception e) {
                System.err.println("ai-filter: while stopping: " + e);
            }
        }, "ai-filter-stop"));
        new CountDownLatch(1).await();
    }
}
