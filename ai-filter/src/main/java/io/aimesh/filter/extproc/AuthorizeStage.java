package io.aimesh.filter.extproc;

/** The model the body names must exist (404) and be one the tenant may use (403). */
final class AuthorizeStage {
    private AuthorizeStage() {
    }

    /** @return the refusal, or {@code null} with {@code state.model} set */
    static ErrorReply authorize(RequestState state) {
        String name = state.parsed.model();
        state.model = state.config.model(name);
        if (state.model == null) {
            return ErrorReply.unknownModel(name);
        }
        if (state.tenant != null && !state.tenant.allows(state.model.name())) {
            return ErrorReply.modelNotAllowed(state.tenant.name(), state.model.name());
        }
        return null;
    }
}
