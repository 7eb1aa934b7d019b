package io.aimesh.filter.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UInt64Value;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Envoy's rate limit service API on the filter's gRPC port, against the same budgets as the
 * ext_proc path: what a ShouldRateLimit call spends, an inference request no longer has.
 */
class RateLimitServiceIT {
    @Test
    void shouldRateLimit_chargesTheTenantsBudgets_sharedWithTheInferencePath() throws Exception {
        try (FilterMesh mesh = FilterMesh.start("closed", 1_000)) {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", mesh.filterPort).usePlaintext().build();
            try {
                var rls = RateLimitServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
                for (int i = 0; i < 3; i++) {
                    RateLimitResponse ok = rls.shouldRateLimit(request("acme", 300));
                    assertThat(ok.getOverallCode()).as("call %d", i).isEqualTo(RateLimitResponse.Code.OK);
                    assertThat(ok.getStatuses(0).getLimitRemaining()).isEqualTo(1_000 - 300 * (i + 1));
                }
                RateLimitResponse over = rls.shouldRateLimit(request("acme", 300));
                assertThat(over.getOverallCode()).isEqualTo(RateLimitResponse.Code.OVER_LIMIT);
                assertThat(over.getStatuses(0).getCode()).isEqualTo(RateLimitResponse.Code.OVER_LIMIT);
                assertThat(over.getStatuses(0).getDurationUntilReset().getSeconds()).isBetween(0L, 60L);

                // A tenant no policy names is not limited, as envoyproxy/ratelimit answers for an unmatched descriptor.
                RateLimitResponse stranger = rls.shouldRateLimit(request("nobody", 1_000_000));
                assertThat(stranger.getOverallCode()).isEqualTo(RateLimitResponse.Code.OK);

                // The budget RLS spent is the one inference requests draw from: 100 tokens are left, too few for one.
                HttpResponse<String> chat = mesh.chat(FilterMesh.ACME_KEY, false, 200, Map.of());
                assertThat(chat.statusCode()).as(chat.body()).isEqualTo(429);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static RateLimitRequest request(String tenant, long hits) {
        return RateLimitRequest.newBuilder()
                .setDomain("aimesh")
                .addDescriptors(RateLimitDescriptor.newBuilder()
                        .addEntries(RateLimitDescriptor.Entry.newBuilder().setKey("tenant").setValue(tenant))
                        .setHitsAddend(UInt64Value.of(hits)))
                .build();
    }
}
