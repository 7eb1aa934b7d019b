package io.aimesh.filter.extproc;

import io.aimesh.filter.body.ParsedRequest;
import io.aimesh.filter.config.RouteRule;
import io.aimesh.filter.config.RuntimeConfig;
import io.aimesh.filter.config.RuntimeConfig.ModelInfo;
import io.aimesh.filter.config.RuntimeConfig.Priority;
import io.aimesh.filter.config.RuntimeConfig.TenantInfo;
import java.util.Map;

/**
 * What the stages of one request learn about it, each filling in its part: {@link IdentifyStage}
 * the headers and the tenant, {@link ParseStage} the body, {@link AuthorizeStage} the model,
 * {@link AdmitStage} the reservation, {@link RouteStage} the version. Confined to the request's
 * {@link RequestProcessor}, under its lock.
 */
final class RequestState {
    final long startNanos = System.nanoTime();
    /** The configuration the request started under; every stage uses this one. */
    RuntimeConfig config;
    /** Whether this is a POST to an inference path; other requests pass untouched. */
    boolean inference;
    String path = "";
    String contentType;
    String requestId = "";
    /** The JWT payload Envoy verified, or {@code null} (no token, or the config verifies none). */
    com.google.protobuf.Struct jwtPayload;
    /** The SHA-256 of the API key that identified the tenant, or {@code null} when it was not a key. */
    String keyDigest;
    /** The tenant, or {@code null} when the configuration has no tenants. */
    TenantInfo tenant;
    ModelInfo model;
    ParsedRequest parsed;
    /** The request body as the client sent it; a shadow copy carries it (or the exchange's rewritten body). */
    com.google.protobuf.ByteString body;
    /** The request's headers as plugins see them, kept at the headers message when the Gateway has plugins; else null. */
    java.util.List<java.util.Map.Entry<String, String>> pluginHeaders;
    /** The body parsed before the plugins (for their model scoping), when they left it as it was; else {@code null}. */
    io.aimesh.filter.body.BodyParseResult parsedBody;
    /** The plugins that run on the response, or {@code null} when none do. */
    PluginStage plugins;
    /** What the plugins changed, for the forwarded request. */
    PluginStage.Changes pluginChanges = PluginStage.Changes.NONE;
    Exchange exchange;
    /** The override headers the client sent (x-aimesh-* ones the config lets through), or {@code null}. */
    Map<String, String> clientHeaders;
    Priority priority = Priority.STANDARD;
    /** The rule that chose where the request goes; {@link #ruleLabel} for an override's header. */
    RouteRule rule;
    String ruleLabel;
    /** The version the filter chose, or {@code null} when Envoy's routes decide. */
    RuntimeConfig.VersionInfo version;
    /** Whether the chosen version's pool is dedicated to the tenant. */
    boolean dedicated;

    String modelName() {
        return model == null ? null : model.name();
    }

    String tenantName() {
        return tenant == null ? null : tenant.name();
    }

    /** The value of the client's override header {@code name}, or {@code null}. */
    String clientHeader(String name) {
        return clientHeaders == null ? null : clientHeaders.get(name);
    }

    void rule(RouteRule rule) {
        this.rule = rule;
        this.ruleLabel = rule.label();
    }
}
