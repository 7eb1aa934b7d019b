package io.aimesh.xds.server;

import static java.util.Objects.requireNonNull;

import io.aimesh.filter.api.VersionStatsAck;
import io.aimesh.filter.api.VersionStatsReport;
import io.aimesh.filter.api.VersionStatsRpc;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Receives the ai-filters' version reports ({@link VersionStatsRpc#REPORT}) on the ADS server.
 * Over mutual TLS a filter may only report for the scope its certificate proves: a filter of one
 * namespace cannot roll back another's rollout with made-up numbers.
 */
public final class VersionStatsService {
    private VersionStatsService() {
    }

    /**
     * The service; each accepted report goes to {@code reports}, on a gRPC thread, and is answered
     * with {@code acks}' acknowledgement for its scope.
     */
    public static ServerServiceDefinition of(Consumer<VersionStatsReport> reports, Function<String, VersionStatsAck> acks) {
        requireNonNull(reports, "reports");
        requireNonNull(acks, "acks");
        return ServerServiceDefinition.builder(VersionStatsRpc.SERVICE)
                .addMethod(VersionStatsRpc.REPORT, ServerCalls.asyncUnaryCall((report, answer) -> {
                    String certified = CertifiedScope.current();
                    if (certified != null && !certified.equals(report.getNamespace())) {
                        answer.onError(Status.PERMISSION_DENIED.withDescription("report for scope '" + report.getNamespace()
                                + "' from a certificate of scope '" + certified + "'").asRuntimeException());
                        return;
                    }
                    reports.accept(report);
                    answer.onNext(acks.apply(report.getNamespace()));
                    answer.onCompleted();
                }))
                .build();
    }
}
