package io.aimesh.filter.extproc;

import com.google.protobuf.ByteString;
import io.aimesh.filter.api.WireContract;
import io.aimesh.picker.Endpoint;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * The last request stage: lets the request go upstream with the model header (and a cleared route
 * cache), the chosen pool and endpoint, the tenant for the model server, the rewritten body when
 * usage had to be asked for, and the rate-limit headers and decision for the client's response.
 */
final class ForwardStage {
    private ForwardStage() {
    }

    /**
     * @param pool the pool, or {@code null} for wherever Envoy's routes say
     * @param endpoint the endpoint picked in it, or {@code null}
     * @param waitedNanos how long the request waited for an endpoint, 0 when it did not
     */
    static ProcessingResponse forward(RequestState state, String pool, Endpoint endpoint, long waitedNanos) {
        List<HeaderValue> responseHeaders = new ArrayList<>(state.exchange.rateLimitHeaders());
        responseHeaders.add(ProcessingResponses.value(WireContract.DECISION_HEADER, decision(state, pool, waitedNanos)));
        PluginStage.Changes plugins = state.pluginChanges;
        ByteString body = state.exchange.rewrittenBody() != null ? state.exchange.rewrittenBody() : plugins.body();
        return ProcessingResponses.requestBody(state.model.name(), body, responseHeaders, pool, endpoint, state.tenantName(),
                plugins.set(), plugins.removed());
    }

    /** {@code admitted rule=R [pool=P] [tenant=T priority=C] [waited_ms=N]}. */
    static String decision(RequestState state, String pool, long waitedNanos) {
        StringBuilder decision = new StringBuilder(Outcome.ADMITTED.label()).append(" rule=").append(state.ruleLabel);
        if (pool != null) {
            decision.append(" pool=").append(pool);
        }
        if (state.tenant != null) {
            decision.append(" tenant=").append(state.tenant.name()).append(" priority=").append(state.priority.label());
        }
        if (waitedNanos != 0) {
            decision.append(" waited_ms=").append(waitedNanos / 1_000_000);
        }
        return decision.toString();
    }
}
