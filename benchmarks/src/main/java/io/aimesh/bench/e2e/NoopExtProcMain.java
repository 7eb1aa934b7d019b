package io.aimesh.bench.e2e;

import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The entry point of the benchmark's no-op ext_proc server: {@code GRPC_PORT}, on loopback. It
 * answers every message at once with "continue, unchanged", on the same gRPC stack and threading
 * as the ai-filter (grpc-java on Netty, handlers on the event loop), but for the one thing the
 * route needs from the filter: the request body's answer sets the model header (a constant, the
 * benchmark's model) and clears the route cache, as the filter's does, since with a filter that
 * fails closed Envoy routes on that header alone. Envoy sends it exactly what
 * it sends the ai-filter (the same Gateway policy, so the same ext_proc configuration), so the
 * path through it is what the ext_proc protocol itself costs on this machine, and the filter
 * path minus it is what the ai-filter's own work costs. Runs until the process is terminated.
 */
public final class NoopExtProcMain {
    private static final ProcessingResponse REQUEST_HEADERS = ProcessingResponse.newBuilder()
            .setRequestHeaders(HeadersResponse.getDefaultInstance()).build();
    private static final ProcessingResponse REQUEST_BODY = ProcessingResponse.newBuilder()
            .setRequestBody(BodyResponse.newBuilder().setResponse(io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse.newBuilder()
                    .setClearRouteCache(true)
                    .setHeaderMutation(io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation.newBuilder()
                            .addSetHeaders(io.envoyproxy.envoy.config.core.v3.HeaderValueOption.newBuilder()
                                    .setHeader(io.envoyproxy.envoy.config.core.v3.HeaderValue.newBuilder()
                                            .setKey(io.aimesh.filter.api.WireContract.MODEL_HEADER)
                                            .setRawValue(com.google.protobuf.ByteString.copyFromUtf8(ChatRequest.MODEL)))))))
            .build();
    private static final ProcessingResponse RESPONSE_HEADERS = ProcessingResponse.newBuilder()
            .setResponseHeaders(HeadersResponse.getDefaultInstance()).build();
    private static final ProcessingResponse RESPONSE_BODY = ProcessingResponse.newBuilder()
            .setResponseBody(BodyResponse.getDefaultInstance()).build();
    private static final ProcessingResponse REQUEST_TRAILERS = ProcessingResponse.newBuilder()
            .setRequestTrailers(TrailersResponse.getDefaultInstance()).build();
    private static final ProcessingResponse RESPONSE_TRAILERS = ProcessingResponse.newBuilder()
            .setResponseTrailers(TrailersResponse.getDefaultInstance()).build();

    private NoopExtProcMain() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length != 1) {
            System.err.println("usage: NoopExtProcMain GRPC_PORT");
            System.exit(2);
        }
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])))
                .directExecutor()
                .addService(new ExternalProcessorGrpc.ExternalProcessorImplBase() {
                    @Override
                    public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
                        return new Continue(responses);
                    }
                })
                .build()
                .start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            try {
                server.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "noop-ext-proc-stop"));
        server.awaitTermination();
    }

    /** One stream: every message continued unchanged. */
    private record Continue(StreamObserver<ProcessingResponse> responses) implements StreamObserver<ProcessingRequest> {
        @Override
        public void onNext(ProcessingRequest request) {
            ProcessingResponse answer = switch (request.getRequestCase()) {
                case REQUEST_HEADERS -> REQUEST_HEADERS;
                case REQUEST_BODY -> REQUEST_BODY;
                case RESPONSE_HEADERS -> RESPONSE_HEADERS;
                case RESPONSE_BODY -> RESPONSE_BODY;
                case REQUEST_TRAILERS -> REQUEST_TRAILERS;
                case RESPONSE_TRAILERS -> RESPONSE_TRAILERS;
                case REQUEST_NOT_SET -> null;
            };
            if (answer != null) {
                responses.onNext(answer);
            }
        }

        @Override
        public void onError(Throwable t) {
            // Envoy reset the stream: nothing to clean up.
        }

        @Override
        public void onCompleted() {
            responses.onCompleted();
        }
    }
}
