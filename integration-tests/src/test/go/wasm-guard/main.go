// A guardrail of the kind platform teams keep as Envoy wasm plugins, built with the proxy-wasm Go
// SDK and stock Go (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared): it tags every request with its
// configuration's tag, refuses a request that carries x-guard-block with a 403 of its own,
// rewrites the request body, replacing the configured word, panics (traps) on x-guard-crash and
// loops for ever on x-guard-spin, and allocates x-guard-grow MiB (kept for the instance's life).
// On the response it adds x-guard-tag and replaces the configured response word in the whole body.
// The same .wasm runs in Envoy's wasm filter and in the ai-filter; the tests compare the two.
package main

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func main() {}

// What x-guard-grow allocated: kept, so the memory stays in use.
var kept [][]byte

func init() {
	proxywasm.SetVMContext(&vm{})
}

type vm struct {
	types.DefaultVMContext
}

func (*vm) NewPluginContext(uint32) types.PluginContext {
	return &plugin{seen: proxywasm.DefineCounterMetric("guard_requests_total")}
}

type plugin struct {
	types.DefaultPluginContext
	tag      string
	word     string
	respWord string
	seen     proxywasm.MetricCounter
}

// The configuration is "tag=<value>;word=<value>;respword=<value>".
func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	config, err := proxywasm.GetPluginConfiguration()
	if err != nil {
		proxywasm.LogCriticalf("no configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	for _, part := range strings.Split(string(config), ";") {
		key, value, _ := strings.Cut(part, "=")
		switch key {
		case "tag":
			p.tag = value
		case "word":
			p.word = value
		case "respword":
			p.respWord = value
		}
	}
	proxywasm.LogInfof("guard started: tag %s", p.tag)
	return types.OnPluginStartStatusOK
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext {
	return &request{plugin: p}
}

type request struct {
	types.DefaultHttpContext
	plugin *plugin
}

func (r *request) OnHttpRequestHeaders(int, bool) types.Action {
	r.plugin.seen.Increment(1)
	if crash, err := proxywasm.GetHttpRequestHeader("x-guard-crash"); err == nil && crash != "" {
		panic("guard asked to crash: " + crash) // a plugin bug: the host sees a trap
	}
	if spin, err := proxywasm.GetHttpRequestHeader("x-guard-spin"); err == nil && spin != "" {
		for spins := 0; ; spins++ { // a plugin bug: it never returns
			r.plugin.seen.Increment(uint64(spins & 1))
		}
	}
	if grow, err := proxywasm.GetHttpRequestHeader("x-guard-grow"); err == nil && grow != "" {
		mebibytes, _ := strconv.Atoi(grow)
		for i := 0; i < mebibytes; i++ { // past the host's memory limit the Go runtime fails: a trap
			kept = append(kept, make([]byte, 1<<20))
		}
	}
	if block, err := proxywasm.GetHttpRequestHeader("x-guard-block"); err == nil && block != "" {
		proxywasm.LogInfof("guard refused a request: %s", block)
		if err := proxywasm.SendHttpResponse(403, [][2]string{{"content-type", "text/plain"}},
			[]byte("blocked by guard: "+block), -1); err != nil {
			proxywasm.LogCriticalf("cannot refuse: %v", err)
		}
		return types.ActionPause
	}
	if err := proxywasm.AddHttpRequestHeader("x-guard-tag", r.plugin.tag); err != nil {
		proxywasm.LogCriticalf("cannot tag: %v", err)
	}
	if r.plugin.word != "" {
		// The body may change length: the host sends it with its new length.
		if err := proxywasm.RemoveHttpRequestHeader("content-length"); err != nil {
			proxywasm.LogCriticalf("cannot drop content-length: %v", err)
		}
	}
	return types.ActionContinue
}

func (r *request) OnHttpRequestBody(size int, endOfStream bool) types.Action {
	if !endOfStream {
		return types.ActionPause // the whole body, then rewrite it once
	}
	if r.plugin.word == "" || size == 0 {
		return types.ActionContinue
	}
	body, err := proxywasm.GetHttpRequestBody(0, size)
	if err != nil {
		proxywasm.LogCriticalf("cannot read the body: %v", err)
		return types.ActionContinue
	}
	if bytes.Contains(body, []byte(r.plugin.word)) {
		redacted := bytes.ReplaceAll(body, []byte(r.plugin.word), []byte("[redacted]"))
		if err := proxywasm.ReplaceHttpRequestBody(redacted); err != nil {
			proxywasm.LogCriticalf("cannot rewrite the body: %v", err)
		}
	}
	return types.ActionContinue
}

func (r *request) OnHttpResponseHeaders(int, bool) types.Action {
	if err := proxywasm.AddHttpResponseHeader("x-guard-tag", r.plugin.tag); err != nil {
		proxywasm.LogCriticalf("cannot tag the response: %v", err)
	}
	if r.plugin.respWord != "" {
		if err := proxywasm.RemoveHttpResponseHeader("content-length"); err != nil {
			proxywasm.LogCriticalf("cannot drop the response's content-length: %v", err)
		}
	}
	return types.ActionContinue
}

func (r *request) OnHttpResponseBody(size int, endOfStream bool) types.Action {
	if r.plugin.respWord == "" {
		return types.ActionContinue
	}
	if !endOfStream {
		return types.ActionPause // the whole body, then rewrite it once
	}
	body, err := proxywasm.GetHttpResponseBody(0, size)
	if err != nil || size == 0 {
		return types.ActionContinue
	}
	if bytes.Contains(body, []byte(r.plugin.respWord)) {
		redacted := bytes.ReplaceAll(body, []byte(r.plugin.respWord), []byte("[redacted]"))
		if err := proxywasm.ReplaceHttpResponseBody(redacted); err != nil {
			proxywasm.LogCriticalf("cannot rewrite the response body: %v", err)
		}
	}
	return types.ActionContinue
}
