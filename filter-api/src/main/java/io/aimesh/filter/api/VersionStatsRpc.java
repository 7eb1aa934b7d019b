package io.aimesh.filter.api;

import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;

/**
 * The one method by which filters report their {@link VersionStatsReport}s. Declared by hand: one
 * unary method does not justify a code generator in the build.
 */
public final class VersionStatsRpc {
    public static final String SERVICE = "aimesh.filter.v1alpha1.VersionStats";
    public static final MethodDescriptor<VersionStatsReport, VersionStatsAck> REPORT =
            MethodDescriptor.<VersionStatsReport, VersionStatsAck>newBuilder()
                    .setType(MethodDescriptor.MethodType.UNARY)
                    .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Report"))
                    .setRequestMarshaller(ProtoUtils.marshaller(VersionStatsReport.getDefaultInstance()))
                    .setResponseMarshaller(ProtoUtils.marshaller(VersionStatsAck.getDefaultInstance()))
                    .build();

    private VersionStatsRpc() {
    }
}
