// Command istiod-bootstrap turns rendered Istio resources (the files `aimesh istio render` writes)
// into a static Envoy bootstrap holding exactly what istiod would send one gateway proxy over xDS.
//
// It runs istiod's own config generation in-process, not a copy of it: the resources are parsed by
// istiod's CRD parser (crd.ParseInputs), the ServiceEntry and memory registries and push context are
// istiod's, and listeners, routes and clusters come from core.ConfigGeneratorImpl (the generator
// behind LDS/RDS/CDS, which applies EnvoyFilter patches the way istiod does), endpoints from the EDS
// endpoint builder. What is not istiod here, and why:
//   - no Kubernetes API server: the kube client is Istio's fake (core.NewConfigGenTest's harness);
//     the config store is the in-memory one istiod also uses for file-based config;
//   - the proxy is a model.Proxy made here (what istiod builds from the node metadata pilot-agent
//     sends), and the gateway's Service is registered in the memory registry so that istiod maps
//     the Gateway's port to the Service's targetPort as it does in a cluster;
//   - no gRPC: what istiod would stream is written as static resources (RDS inlined into the
//     HTTP connection manager, EDS clusters turned STATIC with the endpoints istiod computed);
//   - no pilot-agent: the cluster istiod builds for the gateway's own Service is left out, as it is
//     mesh-internal and so takes its mutual-TLS secrets by SDS from pilot-agent; any other cluster
//     that needs SDS is an error;
//   - istiod's own switches for proxies without Istio's extensions are set,
//     PILOT_ENABLE_METADATA_EXCHANGE=false and PILOT_ENABLE_ALPN_FILTER=false: with them on, a gateway
//     gets istio.metadata_exchange (an HTTP filter and an upstream filter on every cluster) and
//     istio.alpn, which only Istio's proxy build has, and stock Envoy rejects the whole listener and
//     cluster ("Didn't find a registered implementation for 'istio.metadata_exchange'"). Anything
//     else of Istio's proxy build left in the output is an error, never silently dropped. Istio's
//     stats filter comes from Telemetry resources, and there are none.
//
// Usage: istiod-bootstrap -config DIR -port PORT -out FILE [-namespace NS] [-labels K=V,...]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	udpa "github.com/cncf/xds/go/udpa/type/v1"
	bootstrap "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"

	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/networking/core"
	"istio.io/istio/pilot/pkg/xds/endpoints"
	"istio.io/istio/pkg/config/host"
	"istio.io/istio/pkg/config/protocol"
	_ "istio.io/istio/pkg/config/xds" // registers every Envoy extension type istiod knows, for Any fields
	"istio.io/istio/pkg/log"
	"istio.io/istio/pkg/wellknown"
)

const (
	// The gateway pod's address; it only has to differ from every ServiceEntry endpoint.
	proxyIP      = "10.10.0.1"
	istioVersion = "1.31.0"
)

// istiodSwitches are read by istiod's feature flags when its packages initialise, before main runs:
// main sets them and starts itself again.
var istiodSwitches = map[string]string{"PILOT_ENABLE_METADATA_EXCHANGE": "false", "PILOT_ENABLE_ALPN_FILTER": "false"}

func main() {
	if !features.MetadataExchange && !features.ALPNFilter {
		generate()
		return
	}
	for name, value := range istiodSwitches {
		if os.Getenv(name) != "" && os.Getenv(name) != value {
			fmt.Fprintf(os.Stderr, "istiod-bootstrap: %s=%s: stock Envoy needs %s\n", name, os.Getenv(name), value)
			os.Exit(2)
		}
		os.Setenv(name, value)
	}
	self, err := os.Executable()
	if err == nil {
		err = syscall.Exec(self, os.Args, os.Environ())
	}
	fmt.Fprintln(os.Stderr, "istiod-bootstrap: cannot restart with istiod's switches set:", err)
	os.Exit(1)
}

func generate() {
	configDir := flag.String("config", "", "directory of rendered Istio resources (*.yaml)")
	port := flag.Int("port", 0, "the gateway Service's targetPort: the port the gateway's listener binds")
	out := flag.String("out", "", "where to write the Envoy bootstrap (JSON)")
	namespace := flag.String("namespace", "default", "the gateway pod's namespace (an EnvoyFilter applies in its own namespace)")
	labelList := flag.String("labels", "istio=ingressgateway", "the gateway pod's labels, K=V,...")
	flag.Parse()
	if *configDir == "" || *port <= 0 || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*configDir, uint32(*port), *out, *namespace, parseLabels(*labelList)); err != nil {
		fmt.Fprintln(os.Stderr, "istiod-bootstrap:", err)
		os.Exit(1)
	}
}

func run(configDir string, port uint32, out, namespace string, labels map[string]string) error {
	for _, scope := range log.Scopes() {
		scope.SetOutputLevel(log.WarnLevel) // istiod's informational logging would bury this command's report
	}
	yaml, err := readConfigs(configDir)
	if err != nil {
		return err
	}
	gatewayService := &model.Service{
		Hostname:   host.Name("aimesh-gateway." + namespace + ".svc.cluster.local"),
		Attributes: model.ServiceAttributes{Name: "aimesh-gateway", Namespace: namespace, Labels: labels},
		Ports:      model.PortList{{Name: "http", Port: 80, Protocol: protocol.HTTP}},
	}
	gatewayPod := &model.ServiceInstance{
		Service:     gatewayService,
		ServicePort: gatewayService.Ports[0],
		Endpoint: &model.IstioEndpoint{
			Addresses: []string{proxyIP}, EndpointPort: port, ServicePortName: "http",
			Labels: labels, Namespace: namespace,
		},
	}
	cg := core.NewConfigGenTest(failer{}, core.TestOptions{
		ConfigString: yaml,
		Services:     []*model.Service{gatewayService},
		Instances:    []*model.ServiceInstance{gatewayPod},
	})
	proxy := cg.SetupProxy(&model.Proxy{
		Type:            model.Router,
		ID:              "aimesh-gateway-0." + namespace,
		ConfigNamespace: namespace,
		IPAddresses:     []string{proxyIP},
		Labels:          labels,
		Metadata: &model.NodeMetadata{
			Namespace: namespace, Labels: labels, IstioVersion: istioVersion,
		},
	})

	listeners := cg.Listeners(proxy)
	routes := map[string]*route.RouteConfiguration{}
	for _, r := range cg.RoutesFromListeners(proxy, listeners) {
		routes[r.Name] = r
	}
	for _, l := range listeners {
		if err := staticListener(l, routes); err != nil {
			return fmt.Errorf("listener %s: %w", l.Name, err)
		}
	}
	var clusters []*cluster.Cluster
	for _, c := range cg.Clusters(proxy) {
		// The gateway's own Service is registered only to give its port a targetPort; a cluster for
		// it is mesh-internal, so istiod gives it mutual TLS by SDS from pilot-agent, which is not here.
		if _, _, hostname, _ := model.ParseSubsetKey(c.Name); hostname != gatewayService.Hostname {
			clusters = append(clusters, c)
		}
	}
	for _, c := range clusters {
		if err := checkNoSds(c); err != nil {
			return err
		}
		if err := checkUpstreamFilters(c); err != nil {
			return err
		}
		if c.GetType() == cluster.Cluster_EDS {
			staticCluster(c, endpoints.NewEndpointBuilder(c.Name, proxy, cg.PushContext()), cg.Env().EndpointIndex)
		}
	}
	sort.Slice(clusters, func(i, j int) bool { return clusters[i].Name < clusters[j].Name })

	bs := &bootstrap.Bootstrap{
		Node: &core3.Node{Id: "router~" + proxyIP + "~" + proxy.ID + "~" + namespace + ".svc.cluster.local", Cluster: "aimesh-gateway." + namespace},
		Admin: &bootstrap.Admin{Address: &core3.Address{Address: &core3.Address_SocketAddress{SocketAddress: &core3.SocketAddress{
			Address: "127.0.0.1", PortSpecifier: &core3.SocketAddress_PortValue{PortValue: 0},
		}}}},
		StaticResources: &bootstrap.Bootstrap_StaticResources{Listeners: listeners, Clusters: clusters},
	}
	json, err := protojson.MarshalOptions{Multiline: true, UseProtoNames: true}.Marshal(bs)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, json, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "istiod-bootstrap: wrote %s: %d listener(s), %d route configuration(s), %d cluster(s)\n",
		out, len(listeners), len(routes), len(clusters))
	return nil
}

// staticListener inlines each HTTP connection manager's RDS route configuration; it fails on a
// filter stock Envoy does not have.
func staticListener(l *listener.Listener, routes map[string]*route.RouteConfiguration) error {
	for _, chain := range l.FilterChains {
		for _, f := range chain.Filters {
			if istioProxyOnly(f.Name, f.GetTypedConfig()) {
				return fmt.Errorf("network filter %s (%s) needs Istio's proxy build", f.Name, f.GetTypedConfig().GetTypeUrl())
			}
			if f.Name != wellknown.HTTPConnectionManager {
				continue
			}
			manager := &hcm.HttpConnectionManager{}
			if err := f.GetTypedConfig().UnmarshalTo(manager); err != nil {
				return err
			}
			if rds := manager.GetRds(); rds != nil {
				rc, ok := routes[rds.RouteConfigName]
				if !ok {
					return fmt.Errorf("istiod built no route configuration %q", rds.RouteConfigName)
				}
				manager.RouteSpecifier = &hcm.HttpConnectionManager_RouteConfig{RouteConfig: rc}
			}
			for _, hf := range manager.HttpFilters {
				if istioProxyOnly(hf.Name, hf.GetTypedConfig()) {
					return fmt.Errorf("http filter %s (%s) needs Istio's proxy build", hf.Name, hf.GetTypedConfig().GetTypeUrl())
				}
			}
			typed, err := anypb.New(manager)
			if err != nil {
				return err
			}
			f.ConfigType = &listener.Filter_TypedConfig{TypedConfig: typed}
		}
	}
	return nil
}

// checkUpstreamFilters fails on a cluster's upstream network filter stock Envoy does not have.
func checkUpstreamFilters(c *cluster.Cluster) error {
	for _, f := range c.Filters {
		if istioProxyOnly(f.Name, f.GetTypedConfig()) {
			return fmt.Errorf("cluster %s: upstream filter %s needs Istio's proxy build", c.Name, f.Name)
		}
	}
	return nil
}

// checkNoSds fails on a cluster whose TLS needs secrets by SDS: pilot-agent serves those, and it is not here.
func checkNoSds(c *cluster.Cluster) error {
	json, err := protojson.Marshal(c)
	if err != nil {
		return err
	}
	if strings.Contains(string(json), "sdsConfig") {
		return fmt.Errorf("cluster %s needs secrets by SDS from pilot-agent", c.Name)
	}
	return nil
}

// istioProxyOnly says whether a filter is one of the extensions compiled into Istio's proxy only.
func istioProxyOnly(name string, typed *anypb.Any) bool {
	url := typed.GetTypeUrl()
	if ts := (&udpa.TypedStruct{}); typed.MessageIs(ts) && typed.UnmarshalTo(ts) == nil {
		url = ts.TypeUrl
	}
	return strings.HasPrefix(name, "istio.") ||
		strings.Contains(url, "/istio.") || strings.Contains(url, "/io.istio.") ||
		strings.Contains(url, "metadataexchange") || strings.Contains(url, "/stats.PluginConfig")
}

// staticCluster turns an EDS cluster into a STATIC one holding the endpoints istiod would send.
func staticCluster(c *cluster.Cluster, builder endpoints.EndpointBuilder, index *model.EndpointIndex) {
	c.ClusterDiscoveryType = &cluster.Cluster_Type{Type: cluster.Cluster_STATIC}
	c.EdsClusterConfig = nil
	c.LoadAssignment = builder.BuildClusterLoadAssignment(index)
}

func readConfigs(dir string) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", fmt.Errorf("no *.yaml in %s", dir)
	}
	sort.Strings(files)
	var all strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		all.Write(b)
		all.WriteString("\n---\n")
	}
	return all.String(), nil
}

func parseLabels(list string) map[string]string {
	labels := map[string]string{}
	for _, kv := range strings.Split(list, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			labels[k] = v
		}
	}
	return labels
}

// failer lets istiod's config generation harness (written for go test) report to this command.
type failer struct{}

func (failer) Fail()    { os.Exit(1) }
func (failer) FailNow() { os.Exit(1) }
func (failer) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"istiod-bootstrap:"}, args...)...)
	os.Exit(1)
}
func (failer) Fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "istiod-bootstrap: "+f+"\n", a...)
	os.Exit(1)
}
func (failer) Log(args ...any)         { fmt.Fprintln(os.Stderr, args...) }
func (failer) Logf(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
func (failer) TempDir() string         { d, _ := os.MkdirTemp("", "istiod-bootstrap-"); return d }
func (failer) Helper()                 {}
func (failer) Cleanup(func())          {}
func (failer) Skip(args ...any)        { fmt.Fprintln(os.Stderr, args...); os.Exit(1) }
