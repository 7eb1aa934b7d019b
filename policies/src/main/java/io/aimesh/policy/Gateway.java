package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * Data-plane settings: at most one per policy set.
 *
 * @param name the gateway's {@code metadata.name}
 * @param filter the ai-filter in the request path, or {@code null} for none
 * @param identity how requests are identified
 * @param globalLimits the Redis that makes tenant limits global, or {@code null} for per-replica limits
 * @param trustedCidrs the client address ranges Envoy treats as internal, as {@code address/prefix}; empty
 *     trusts no client by its address
 * @param currency the ISO 4217 code of every price and budget of its namespace
 */
public record Gateway(String name, FilterSettings filter, Identity identity, GlobalLimits globalLimits,
                      List<String> trustedCidrs, String currency, List<Plugin> plugins) {
    public Gateway {
        requireNonNull(name, "name");
        requireNonNull(identity, "identity");
        trustedCidrs = List.copyOf(trustedCidrs);
        requireNonNull(currency, "currency");
        plugins = List.copyOf(plugins);
    }

    /** A Gateway that trusts no client address, in US dollars, without plugins. */
    public Gateway(String name, FilterSettings filter, Identity identity, GlobalLimits globalLimits) {
        this(name, filter, identity, globalLimits, List.of(), "USD", List.of());
    }

    /** As the canonical constructor, without plugins. */
    public Gateway(String name, FilterSettings filter, Identity identity, GlobalLimits globalLimits, List<String> trustedCidrs,
                   String currency) {
        this(name, filter, identity, globalLimits, trustedCidrs, currency, List.of());
    }

    /** Whether a plugin runs on response headers: then Envoy must send them to the ai-filter. */
    public boolean pluginsSeeResponseHeaders() {
        return plugins.stream().anyMatch(plugin -> plugin.phases().contains(io.aimesh.filter.api.PluginPhase.PLUGIN_PHASE_RESPONSE_HEADERS));
    }

    /**
     * A proxy-wasm plugin the ai-filter runs on requests (see the policy reference).
     *
     * @param sha256 the module's digest, 64 lower-case hex digits (no prefix)
     * @param tenants the tenants whose requests it runs on; empty for every request
     * @param timeout the most one of its calls may take
     * @param models the models (as clients name them) whose requests it runs on; empty for every request
     * @param phases the phases it runs in
     * @param memoryBytes the most linear memory an instance may have
     */
    public record Plugin(String name, String file, String sha256, String configuration, boolean failOpen, List<String> tenants,
                         java.time.Duration timeout, List<String> models, java.util.Set<io.aimesh.filter.api.PluginPhase> phases,
                         long memoryBytes) {
        public Plugin {
            models = List.copyOf(models);
            phases = java.util.Set.copyOf(phases);
            requireNonNull(name, "name");
            requireNonNull(timeout, "timeout");
            requireNonNull(file, "file");
            requireNonNull(sha256, "sha256");
            requireNonNull(configuration, "configuration");
            tenants = List.copyOf(tenants);
        }
    }

    /**
     * Tenant limits shared by every filter replica through Redis.
     *
     * @param redis the Redis URI
     * @param leaseTokens the most tokens a replica admits beyond what Redis has counted
     * @param syncInterval the longest time between two reports of an active budget
     * @param failOpen whether replicas admit locally (up to {@code failOpenTokens}) while Redis is down
     * @param failOpenTokens the local cap per budget, window and replica while failing open
     * @param timeout how long a report may take before Redis counts as down
     * @param spendLeaseMicros the most a replica spends beyond what Redis has acknowledged, per spend budget
     */
    public record GlobalLimits(String redis, long leaseTokens, Duration syncInterval, boolean failOpen, long failOpenTokens,
                               Duration timeout, long spendLeaseMicros) {
        public GlobalLimits {
            requireNonNull(redis, "redis");
            requireNonNull(syncInterval, "syncInterval");
            requireNonNull(timeout, "timeout");
        }
    }

    /**
     * @param jwt the JWTs Envoy verifies, or {@code null} for none
     * @param trustedHop whether the hop before Envoy is trusted to set tenant headers
     */
    public record Identity(Jwt jwt, boolean trustedHop) {
        /** No JWTs, no trusted hop. */
        public static final Identity NONE = new Identity(null, false);
    }

    /**
     * JWT verification by Envoy's {@code jwt_authn} filter.
     *
     * @param issuer the required {@code iss}
     * @param audiences accepted {@code aud} values; empty accepts any
     * @param jwksFile the JWKS file Envoy reads, or {@code null}
     * @param jwks the inline JWKS, or {@code null}; exactly one of the two is set
     * @param tenantClaim the claim (a dotted path into the payload) naming the tenant
     * @param header the header the token comes in; {@code authorization} means {@code Bearer <token>}
     * @param clockSkew allowed clock difference for {@code exp} and {@code nbf}
     */
    public record Jwt(String issuer, List<String> audiences, String jwksFile, String jwks, String tenantClaim, String header,
                      Duration clockSkew) {
        public Jwt {
            requireNonNull(issuer, "issuer");
            audiences = List.copyOf(audiences);
            if ((jwksFile == null) == (jwks == null)) {
                throw new IllegalArgumentException("exactly one of jwksFile and jwks is required");
            }
            requireNonNull(tenantClaim, "tenantClaim");
            requireNonNull(header, "header");
            requireNonNull(clockSkew, "clockSkew");
        }
    }
}
