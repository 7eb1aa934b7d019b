package io.aimesh.cli;

import io.aimesh.istio.IstioRenderer;
import io.aimesh.istio.IstioResources;
import io.aimesh.istio.RenderException;
import io.aimesh.istio.RenderOptions;
import io.aimesh.policy.Endpoint;
import io.aimesh.policy.LoadResult;
import io.aimesh.policy.PolicyLoader;
import io.aimesh.policy.PolicySet;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "istio", mixinStandardHelpOptions = true, subcommands = IstioCommand.Render.class,
        description = "Istio resources from the policy files.")
final class IstioCommand {
    @Command(name = "render", mixinStandardHelpOptions = true,
            description = "Write Istio resources (one YAML file per kind) from the same policy files the control plane "
                    + "serves: the EnvoyFilter that puts the ai-filter into sidecars or a gateway, DestinationRule subsets "
                    + "per model version, VirtualService routes per model, ServiceEntries for pools outside the mesh; with "
                    + "--inference-extension, InferencePools and HTTPRoutes instead. Exits 1 on a policy or render error.")
    static final class Render implements Callable<Integer> {
        @Option(names = "--policies", required = true, paramLabel = "DIR", description = "The policy directory.")
        Path policies;

        @Option(names = "--mode", paramLabel = "sidecar|gateway", defaultValue = "gateway",
                description = "Where the ai-filter runs: the selected workloads' sidecars (inbound) or an Istio gateway. "
                        + "Default: ${DEFAULT-VALUE}.")
        String mode;

        @Option(names = "--ai-filter", paramLabel = "HOST:PORT",
                description = "The ai-filter's gRPC address as the proxies reach it, e.g. "
                        + "aimesh-filter.aimesh-system.svc.cluster.local:18080. Default: the Gateway policy's filter.address.")
        String aiFilter;

        @Option(names = "--selector", paramLabel = "KEY=VALUE", split = ",",
                description = "Labels of the workloads (sidecar mode) or gateway pods the EnvoyFilter applies to; repeatable. "
                        + "Default: every workload of the namespace (sidecar), istio=ingressgateway (gateway).")
        List<String> selector = List.of();

        @Option(names = "--namespace", paramLabel = "NS", defaultValue = RenderOptions.DEFAULT_NAMESPACE,
                description = "The namespace of the rendered resources, and the policy scope rendered when the policies "
                        + "use namespaces. Default: ${DEFAULT-VALUE}.")
        String namespace;

        @Option(names = "--gateway-namespace", paramLabel = "NS", defaultValue = RenderOptions.DEFAULT_GATEWAY_NAMESPACE,
                description = "Gateway mode: the namespace of the gateway pods, where the EnvoyFilter goes (an EnvoyFilter "
                        + "applies in its own namespace only). Default: ${DEFAULT-VALUE}.")
        String gatewayNamespace;

        @Option(names = "--ecds", description = "Deliver the ai-filter's settings by ECDS (an EXTENSION_CONFIG patch of their "
                + "own): a later change of them re-sends that extension, not the listeners.")
        boolean ecds;

        @Option(names = "--inference-extension", description = "Gateway mode: route with the Gateway API Inference Extension "
                + "(Istio >= 1.28): InferencePools whose endpoint picker is the ai-filter, and HTTPRoutes.")
        boolean inferenceExtension;

        @Option(names = "--out", paramLabel = "DIR", defaultValue = "istio-rendered",
                description = "Where the files go (created if missing). Default: ${DEFAULT-VALUE}.")
        Path out;

        @Override
        public Integer call() throws Exception {
            RenderOptions options;
            try {
                options = new RenderOptions(mode(), aiFilter == null ? null : endpoint(aiFilter), labels(), namespace, ecds,
                        gatewayNamespace, inferenceExtension);
            } catch (IllegalArgumentException e) {
                System.err.println("istio render: " + e.getMessage());
                return 2;
            }
            LoadResult result = PolicyLoader.loadDirectory(policies);
            if (!result.ok()) {
                ValidateCommand.printErrors(policies, result);
                System.err.println(result.errors().size() + " error(s) in " + policies + "; nothing rendered");
                return 1;
            }
            PolicySet set = result.policies();
            if (set.namespaces().contains(namespace)) {
                set = set.scope(namespace);
            } else if (!set.namespaces().equals(java.util.Set.of(PolicySet.DEFAULT_NAMESPACE))) {
                System.err.println("istio render: --namespace " + namespace + " is none of the policies' namespaces "
                        + set.namespaces());
                return 1;
            }
            IstioResources resources;
            try {
                resources = IstioRenderer.render(set, options);
            } catch (RenderException e) {
                e.problems().forEach(problem -> System.err.println("istio render: " + problem));
                return 1;
            }
            resources.notes().forEach(note -> System.err.println("istio render: note: " + note));
            for (Path file : resources.write(out)) {
                System.out.println("wrote " + file);
            }
            return 0;
        }

        private RenderOptions.Mode mode() {
            try {
                return RenderOptions.Mode.valueOf(mode.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--mode: '" + mode + "' (expected: sidecar or gateway)");
            }
        }

        private Map<String, String> labels() {
            Map<String, String> labels = new LinkedHashMap<>();
            for (String pair : selector) {
                int eq = pair.indexOf('=');
                if (eq <= 0 || eq == pair.length() - 1) {
                    throw new IllegalArgumentException("--selector: '" + pair + "' (expected: KEY=VALUE)");
                }
                labels.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
            return labels;
        }

        private static Endpoint endpoint(String hostPort) {
            int colon = hostPort.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("--ai-filter: '" + hostPort + "' (expected: HOST:PORT)");
            }
            String host = hostPort.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            try {
                return new Endpoint(host, Integer.parseInt(hostPort.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--ai-filter: '" + hostPort + "' (expected: HOST:PORT)", e);
            }
        }
    }
}
