package io.aimesh.filter.extproc;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Duration;
import io.aimesh.filter.config.RuntimeConfig;
import io.aimesh.filter.config.RuntimeConfig.TenantInfo;
import io.aimesh.filter.limit.Admission;
import io.aimesh.filter.limit.RateLimitHeaders;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * Envoy's rate limit service ({@code envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit})
 * on the ai-filter's own limiter, so that Envoy's native {@code ratelimit} filter can use aimesh's
 * tenant budgets (local or shared through Redis) instead of envoyproxy/ratelimit.
 *
 * <p>Descriptors name budgets by entries: {@code tenant} (a Tenant's name) and, optionally,
 * {@code model}; a descriptor without a known tenant is not limited (OK), as envoyproxy/ratelimit
 * answers for a descriptor no rule matches. Each descriptor charges its {@code hits_addend} (else the
 * request's, else 1) as prompt tokens, and one request, to the budgets that apply to that tenant and
 * model (without a model, those for every model). A charge is final: the service never learns the
 * real usage. The answer is {@code OVER_LIMIT} when any descriptor is; each status carries the
 * tightest token budget's remaining tokens and time to reset. Domains are not used.
 *
 * <p>Trust: the descriptors decide whose budget is spent, so they must come from what Envoy
 * verified (a {@code metadata} action on the jwt_authn payload, or a header only a trusted hop
 * sets), not from a header any client may send.
 *
 * <p>Thread-safe; runs on the gRPC event loop like the ext_proc service (the limiter does not block).
 */
public final class RateLimitServer extends RateLimitServiceGrpc.RateLimitServiceImplBase {
    /** Hits beyond this are taken as this: it is more than any budget can hold (2^39 tokens). */
    private static final long MAX_HITS = 1L << 39;

    private final FilterContext context;

    public RateLimitServer(FilterContext context) {
        this.context = requireNonNull(context, "context");
    }

    @Override
    public void shouldRateLimit(RateLimitRequest request, StreamObserver<RateLimitResponse> responses) {
        RuntimeConfig config = context.config();
        if (config == null) {
            responses.onError(Status.UNAVAILABLE.withDescription("no configuration yet").asRuntimeException());
            return;
        }
        RateLimitResponse.Builder response = RateLimitResponse.newBuilder().setOverallCode(RateLimitResponse.Code.OK);
        // uint32 and UInt64 on the wire: read unsigned, and hold to what a budget can count.
        long requestHits = request.getHitsAddend() == 0 ? 1 : Integer.toUnsignedLong(request.getHitsAddend());
        for (RateLimitDescriptor descriptor : request.getDescriptorsList()) {
            String tenantName = null;
            String model = "";
            for (RateLimitDescriptor.Entry entry : descriptor.getEntriesList()) {
                switch (entry.getKey()) {
                    case "tenant" -> tenantName = entry.getValue();
                    case "model" -> model = entry.getValue();
                    default -> { } // other entries do not select a budget
                }
            }
            TenantInfo tenant = tenantName == null ? null : config.tenant(tenantName);
            if (tenant == null) {
                response.addStatuses(RateLimitResponse.DescriptorStatus.newBuilder().setCode(RateLimitResponse.Code.OK));
                continue;
            }
            long hits = descriptor.hasHitsAddend() ? descriptor.getHitsAddend().getValue() : requestHits;
            if (hits < 0 || hits > MAX_HITS) {
                hits = MAX_HITS; // more than any budget holds: refused, never an error that fails open
            }
            Admission admission;
            try {
                admission = context.admitHits(tenant, model, hits);
            } catch (RuntimeException e) {
                // An error would let Envoy's filter fail open (its default): refuse this descriptor instead.
                response.setOverallCode(RateLimitResponse.Code.OVER_LIMIT);
                response.addStatuses(RateLimitResponse.DescriptorStatus.newBuilder().setCode(RateLimitResponse.Code.OVER_LIMIT));
                continue;
            }
            RateLimitResponse.DescriptorStatus.Builder status = RateLimitResponse.DescriptorStatus.newBuilder()
                    .setCode(admission.admitted() ? RateLimitResponse.Code.OK : RateLimitResponse.Code.OVER_LIMIT);
            RateLimitHeaders headers = admission.headers();
            if (headers.hasTokens()) {
                // Remaining tokens and the reset of the tightest budget; no current_limit, whose unit
                // would have to be one window though the tightest budget may change with each call.
                status.setLimitRemaining((int) Math.min(Integer.MAX_VALUE, Math.max(0, headers.remainingTokens())))
                        .setDurationUntilReset(Duration.newBuilder().setSeconds(headers.resetTokensMillis() / 1_000)
                                .setNanos((int) (headers.resetTokensMillis() % 1_000) * 1_000_000));
            }
            if (!admission.admitted()) {
                response.setOverallCode(RateLimitResponse.Code.OVER_LIMIT);
                context.metrics().outcome(Outcome.LIMITED, model.isEmpty() ? null : model, tenant.name());
            }
            response.addStatuses(status);
        }
        responses.onNext(response.build());
        responses.onCompleted();
    }
}
