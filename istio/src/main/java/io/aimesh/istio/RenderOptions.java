package io.aimesh.istio;

import static java.util.Objects.requireNonNull;

import io.aimesh.policy.Endpoint;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@link IstioRenderer} renders for.
 *
 * @param mode where the ai-filter goes: the sidecars' inbound chain, or an Istio gateway
 * @param aiFilter the ai-filter's gRPC address as the proxies reach it, e.g. a Service
 *     {@code aimesh-filter.aimesh-system.svc.cluster.local:18080}; {@code null} for the Gateway policy's
 *     {@code filter.address}
 * @param selector the labels of the workloads (sidecar mode) or gateway pods the EnvoyFilter applies to;
 *     empty selects every workload in {@code namespace} (sidecar mode) or Istio's default ingress gateway
 * @param namespace the namespace of the rendered resources, a DNS-1123 label
 * @param ecds whether the filter's settings travel by ECDS: an {@code EXTENSION_CONFIG} patch of its own,
 *     so a later change of them re-sends that extension and no listener
 * @param gatewayNamespace gateway mode with an Istio Gateway: the namespace of the gateway pods, where the
 *     EnvoyFilter must be (an EnvoyFilter applies to workloads of its own namespace only, or of every namespace
 *     from Istio's root namespace, while a Gateway selects gateway pods in any namespace: an EnvoyFilter beside
 *     the routes would leave the gateway routing by model with no ai-filter and no header stripping)
 * @param inferenceExtension gateway mode only: route with the Gateway API Inference Extension (a Gateway API
 *     Gateway, HTTPRoutes and InferencePools whose endpoint picker is the ai-filter) instead of an Istio
 *     Gateway, VirtualServices and DestinationRules
 */
public record RenderOptions(Mode mode, Endpoint aiFilter, Map<String, String> selector, String namespace, boolean ecds,
                            String gatewayNamespace, boolean inferenceExtension) {
    /** The namespace when none is given. */
    public static final String DEFAULT_NAMESPACE = "default";
    /** Where Istio installs its default ingress gateway. */
    public static final String DEFAULT_GATEWAY_NAMESPACE = "istio-system";

    /** With the gateway pods in {@link #DEFAULT_GATEWAY_NAMESPACE}. */
    public RenderOptions(Mode mode, Endpoint aiFilter, Map<String, String> selector, String namespace, boolean ecds,
                         boolean inferenceExtension) {
        this(mode, aiFilter, selector, namespace, ecds, DEFAULT_GATEWAY_NAMESPACE, inferenceExtension);
    }

    public RenderOptions {
        requireNonNull(mode, "mode");
        selector = java.util.Collections.unmodifiableMap(new TreeMap<>(selector));
        requireNonNull(namespace, "namespace");
        if (!namespace.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
            throw new IllegalArgumentException("namespace: '" + namespace + "' (expected: a DNS-1123 label)");
        }
        requireNonNull(gatewayNamespace, "gatewayNamespace");
        if (!gatewayNamespace.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
            throw new IllegalArgumentException("gatewayNamespace: '" + gatewayNamespace + "' (expected: a DNS-1123 label)");
        }
        if (inferenceExtension && mode != Mode.GATEWAY) {
            throw new IllegalArgumentException("the Inference Extension routes gateways only (expected: mode GATEWAY)");
        }
    }

    /** Where the ai-filter runs. */
    public enum Mode {
        /** In the inbound chain of the selected workloads' sidecars ({@code SIDECAR_INBOUND}). */
        SIDECAR,
        /** In the selected Istio gateway ({@code GATEWAY}), which also routes by model. */
        GATEWAY
    }

    /**
     * The namespace of the EnvoyFilters: the workloads' in sidecar mode; the gateway pods' for an Istio
     * Gateway; for the Inference Extension the Gateway API Gateway's, whose pods Istio deploys beside it.
     */
    String envoyFilterNamespace() {
        return mode == Mode.GATEWAY && !inferenceExtension ? gatewayNamespace : namespace;
    }

    /** The gateway pods' labels when none are given: Istio's default ingress gateway. */
    Map<String, String> gatewaySelector() {
        if (!selector.isEmpty()) {
            return selector;
        }
        return inferenceExtension ? InferenceExtension.gatewayPods() : Map.of("istio", "ingressgateway");
    }
}
