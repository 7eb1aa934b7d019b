package io.aimesh.policy;

import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * What the loader checks in a JWKS document. A symmetric ({@code "kty": "oct"}) key is a shared
 * secret: anyone who can read the policy, the control plane's ADS stream or Envoy's config dump could
 * mint tokens with it. Only public keys belong in a JWKS that travels this far.
 */
public final class Jwks {
    /** The error for a JWKS with a symmetric key. */
    public static final String SYMMETRIC_KEY_REFUSED = "the JWKS holds a symmetric key (\"kty\": \"oct\"), a secret anyone "
            + "who reads the config could sign tokens with; give the issuer's public keys (RSA, EC or OKP) only";

    private Jwks() {
    }

    /**
     * Whether {@code json}, a JWKS document, has a key of type {@code oct}. A document that does not
     * parse has none here; Envoy refuses it on its own.
     */
    public static boolean hasSymmetricKey(String json) {
        Object document;
        try {
            // JSON is YAML's flow style; the policy module already depends on a YAML parser.
            document = new Load(LoadSettings.builder().setCodePointLimit(1 << 22).build()).loadFromString(json);
        } catch (YamlEngineException e) {
            return false;
        }
        if (!(document instanceof Map<?, ?> jwks) || !(jwks.get("keys") instanceof List<?> keys)) {
            return false;
        }
        return keys.stream().anyMatch(key -> key instanceof Map<?, ?> k && "oct".equals(k.get("kty")));
    }
}
