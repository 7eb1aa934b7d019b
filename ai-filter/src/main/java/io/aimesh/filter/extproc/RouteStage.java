package io.aimesh.filter.extproc;

import io.aimesh.filter.config.RouteRule;
import io.aimesh.filter.config.RuntimeConfig;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Chooses the version of a model the filter routes (by override header, else by weight among the
 * versions the tenant may reach, see {@link RuntimeConfig.ModelInfo#choose}); a model without such
 * versions is left to Envoy's weighted split.
 */
final class RouteStage {
    private RouteStage() {
    }

    /**
     * Sets {@code state.version} ({@code null} to let Envoy's routes decide), {@code state.rule}
     * and {@code state.dedicated}.
     *
     * @return the 403 when every version is in another tenant's dedicated pool, else {@code null}
     */
    static ErrorReply route(RequestState state) {
        if (!state.model.filterRouted()) {
            state.rule(RouteRule.ENVOY_SPLIT);
            return null;
        }
        RuntimeConfig.Choice choice = state.model.choose(state::clientHeader, ThreadLocalRandom.current().nextDouble(),
                state.tenantName());
        state.rule = choice.rule();
        state.ruleLabel = choice.label();
        if (choice.rule() == RouteRule.NO_ELIGIBLE_POOL) {
            return ErrorReply.dedicatedPoolsOnly(state.tenantName(), state.model.name());
        }
        state.version = choice.version();
        state.dedicated = state.version != null && !state.version.dedicatedTenants().isEmpty();
        return null;
    }
}
