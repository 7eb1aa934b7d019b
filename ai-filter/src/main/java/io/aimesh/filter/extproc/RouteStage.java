package io.aimesh.filter.extproc;

import io.aimesh.filter.config.RouteRule;
import io.aimesh.filter.config.RuntimeConfig;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Chooses the version of a model the filter routes (by override header, else by weight among the
 * versions the tenant may reach, see {@link RuntimeConfig.ModelInfo#choose}: by the request's
 * stickiness key when the model has one and the request carries it, else by a random draw); a model
 * without such versions is left to Envoy's weighted split.
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
                state.tenantName(), stickyKey(state));
        state.rule = choice.rule();
        state.ruleLabel = choice.label();
        if (choice.rule() == RouteRule.NO_ELIGIBLE_POOL) {
            return ErrorReply.dedicatedPoolsOnly(state.tenantName(), state.model.name());
        }
        state.version = choice.version();
        state.dedicated = state.version != null && !state.version.dedicatedTenants().isEmpty();
        return null;
    }

    /** The request's stickiness key for its model, or {@code null} when the model has none or the request lacks it. */
    static String stickyKey(RequestState state) {
        RuntimeConfig.StickinessInfo sticky = state.model.stickiness();
        if (sticky == null) {
            return null;
        }
        return switch (sticky.source()) {
            case TENANT -> state.tenantName();
            case HEADER -> state.clientHeader(sticky.name());
            case JWT_CLAIM -> IdentifyStage.jwtClaim(state.jwtPayload, sticky.name(), sticky.path());
        };
    }
}
