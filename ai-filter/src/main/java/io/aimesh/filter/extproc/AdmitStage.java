package io.aimesh.filter.extproc;

import com.google.protobuf.ByteString;
import io.aimesh.filter.config.RuntimeConfig.Priority;

/**
 * Reserves the request's tokens against its tenant's budgets, and their price against the spend
 * budgets of its key, tenant, team and organisation (see {@link FilterContext#admit} for what is
 * reserved): 429 with OpenAI's headers when a budget has no room, at once and without
 * {@code retry-after} when one can never hold it. Notes the tenant's priority class for the model.
 */
final class AdmitStage {
    private AdmitStage() {
    }

    /** @return the 429, or {@code null} with {@code state.exchange} (and the priority) set */
    static ErrorReply admit(FilterContext context, RequestState state, ByteString body) {
        state.exchange = context.admit(state.config, state.tenant, state.keyDigest, state.model, state.parsed, body);
        ErrorReply denial = state.exchange.denial();
        if (denial != null) {
            return denial;
        }
        state.priority = state.tenant == null ? Priority.STANDARD : state.tenant.priority(state.model.name());
        return null;
    }
}
