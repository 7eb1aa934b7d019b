package io.aimesh.filter.extproc;

import static java.util.Objects.requireNonNull;

import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.stub.StreamObserver;

/** Envoy's External Processing service: one {@link RequestProcessor} per HTTP request. Thread-safe. */
public final class ExtProcService extends ExternalProcessorGrpc.ExternalProcessorImplBase {
    private final FilterContext context;

    public ExtProcService(FilterContext context) {
        this.context = requireNonNull(context, "context");
    }

    @Override
    public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
        return new RequestProcessor(responses, context);
    }
}
