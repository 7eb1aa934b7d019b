package io.aimesh.testing;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.util.Base64;

/** A JWT issuer for tests: an RSA key, its JWKS, and RS256-signed tokens. */
public final class TestIssuer {
    public static final String ISSUER = "https://issuer.aimesh.test";
    private static final Base64.Encoder URL = Base64.getUrlEncoder().withoutPadding();

    private final KeyPair keys;
    private final String kid;

    /** A new RSA key, named {@code kid} in its JWKS and its tokens' headers. */
    public TestIssuer(String kid) {
        this.kid = kid;
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            this.keys = generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The public key as a one-key JWKS document. */
    public String jwks() {
        RSAPublicKey key = (RSAPublicKey) keys.getPublic();
        return "{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"RS256\",\"use\":\"sig\",\"kid\":\"" + kid + "\",\"n\":\""
                + unsigned(key.getModulus()) + "\",\"e\":\"" + unsigned(key.getPublicExponent()) + "\"}]}";
    }

    /** A token with {@code claims} (a JSON object's members, without braces), signed with this issuer's key. */
    public String token(String claims) {
        String header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"" + kid + "\"}";
        String signingInput = URL.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + URL.encodeToString(("{" + claims + "}").getBytes(StandardCharsets.UTF_8));
        try {
            Signature signature = Signature.getInstance("SHA256withRSA");
            signature.initSign(keys.getPrivate());
            signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return signingInput + "." + URL.encodeToString(signature.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The members of a token's claims object: issuer, audience, a {@code tenant} claim, and expiry (epoch seconds). */
    public static String claims(String issuer, String audience, String tenant, long expiresAtSeconds) {
        return "\"iss\":\"" + issuer + "\",\"aud\":\"" + audience + "\",\"sub\":\"user-1\",\"tenant\":\"" + tenant
                + "\",\"exp\":" + expiresAtSeconds;
    }

    private static String unsigned(BigInteger value) {
        byte[] bytes = value.toByteArray();
        if (bytes.length > 1 && bytes[0] == 0) {
            bytes = java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        return URL.encodeToString(bytes);
    }
}
