package io.aimesh.filter.extproc;

import com.google.protobuf.ByteString;
import io.aimesh.filter.body.BodyError;
import io.aimesh.filter.body.BodyParseResult;
import io.aimesh.filter.body.ParsedRequest;

/** The request body: parsed strictly, every problem reported at once (see {@code RequestBodyParser}). */
final class ParseStage {
    private ParseStage() {
    }

    /** @return the parser's 400, 413 or 415, or {@code null} with {@code state.parsed} set */
    static ErrorReply parse(FilterContext context, RequestState state, ByteString body) {
        BodyParseResult result = state.parsedBody != null ? state.parsedBody
                : context.parse(state.config, state.path, state.contentType, body);
        if (result instanceof BodyError error) {
            return ErrorReply.badRequest(error);
        }
        state.parsed = (ParsedRequest) result;
        return null;
    }
}
