package io.aimesh.filter.body;

/**
 * What {@link RequestBodyParser#parse} makes of a request body: the fields the filter needs, or the
 * error to answer the client with instead of forwarding the request.
 */
public sealed interface BodyParseResult permits ParsedRequest, BodyError {
}
