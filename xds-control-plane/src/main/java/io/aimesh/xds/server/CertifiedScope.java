package io.aimesh.xds.server;

import io.aimesh.xds.XdsTls;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The config scope a node's client certificate proves, for ADS over mutual TLS. A node's scope
 * is otherwise only what its node metadata claims; with mutual TLS the claim must match the
 * certificate, or the stream is refused.
 *
 * <p>The scope is the namespace of the certificate's SPIFFE ID (a URI subject alternative name
 * {@code spiffe://TRUST-DOMAIN/ns/NAMESPACE/sa/ACCOUNT}, the form Istio issues to workloads); a
 * certificate without one proves the default scope. The interceptor puts it in the call's gRPC
 * {@link Context}, where {@link AdsService} reads it when the stream starts.
 */
public final class CertifiedScope implements ServerInterceptor {
    private static final Context.Key<String> SCOPE = Context.key("aimesh-certified-scope");

    /** The server's TLS context: its certificate, and client certificates required, signed by the CA. */
    public static SslContext serverContext(XdsTls tls) throws IOException {
        return GrpcSslContexts.forServer(tls.certificateChain().toFile(), tls.privateKey().toFile())
                .trustManager(tls.trustedCa().toFile())
                .clientAuth(ClientAuth.REQUIRE)
                .build();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        if (session == null) {
            return next.startCall(call, headers); // plaintext: no certified scope
        }
        String scope;
        try {
            Certificate[] chain = session.getPeerCertificates();
            scope = scopeOf((X509Certificate) chain[0]);
        } catch (SSLPeerUnverifiedException | CertificateParsingException | ClassCastException e) {
            call.close(Status.UNAUTHENTICATED.withDescription("no usable client certificate: " + e.getMessage()), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        return Contexts.interceptCall(Context.current().withValue(SCOPE, scope), call, headers, next);
    }

    /** The scope the current call's client certificate proves, or {@code null} on a plaintext connection. */
    static String current() {
        return SCOPE.get();
    }

    /** The namespace of the certificate's SPIFFE ID; the default scope when it has none. */
    static String scopeOf(X509Certificate certificate) throws CertificateParsingException {
        Collection<List<?>> names = certificate.getSubjectAlternativeNames();
        if (names != null) {
            for (List<?> name : names) {
                // Type 6 is a URI (RFC 5280, GeneralName uniformResourceIdentifier).
                if (name.size() >= 2 && Integer.valueOf(6).equals(name.get(0)) && name.get(1) instanceof String uri
                        && uri.startsWith("spiffe://")) {
                    String[] segments = uri.substring("spiffe://".length()).split("/");
                    for (int i = 1; i + 1 < segments.length; i++) {
                        if (segments[i].equals("ns")) {
                            return segments[i + 1];
                        }
                    }
                }
            }
        }
        return SnapshotHub.DEFAULT_SCOPE;
    }
}
