package io.aimesh.filter.extproc;

import com.google.protobuf.ByteString;
import io.aimesh.filter.api.WireContract;
import io.aimesh.filter.wasm.PluginChain;
import io.aimesh.filter.wasm.WasmPlugin;
import io.aimesh.filter.wasm.WasmPluginException;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The plugin stage: runs the Gateway's proxy-wasm plugins on an identified inference request, in
 * order, on its headers and whole body, before the filter reads the body (so the limiter counts the
 * body the plugins leave). A plugin may change headers (the filter's own {@code x-aimesh-*}
 * headers and pseudo-headers excepted: those stay the filter's), replace the body, or answer
 * itself: its status and body become the answer, as OpenAI-style error JSON unless it answered
 * JSON. A plugin that traps fails the request with 500, or is skipped when its failure mode is
 * {@code open}.
 */
final class PluginStage {
    private static final System.Logger LOG = System.getLogger(PluginStage.class.getName());

    /**
     * What the chain made of the request.
     *
     * @param body the body after the plugins, or {@code null} when they left it as it was
     * @param set headers to set on the request
     * @param removed headers to remove from it
     * @param reply the answer that ends the request (a plugin's own, or a failure), or {@code null}
     * @param json the plugin's own answer as it gave it, when it is JSON (then sent as is), else {@code null}
     */
    record Changes(ByteString body, List<HeaderValue> set, List<String> removed, ErrorReply reply, byte[] json) {
        static final Changes NONE = new Changes(null, List.of(), List.of(), null, null);
    }

    private PluginStage() {
    }

    static Changes run(FilterContext context, RequestState state, ByteString body) {
        List<PluginChain.Link> chain = context.plugins().current();
        if (chain.isEmpty() || state.pluginHeaders == null) {
            return Changes.NONE;
        }
        List<Map.Entry<String, String>> headers = state.pluginHeaders;
        byte[] bytes = body.toByteArray();
        boolean bodyChanged = false;
        for (PluginChain.Link link : chain) {
            if (!link.appliesTo(state.tenantName())) {
                continue;
            }
            WasmPlugin.RequestResult result;
            try {
                if (link.plugin() == null) {
                    throw new WasmPluginException("not loaded: " + link.broken(), null);
                }
                result = link.plugin().onRequest(headers, bytes);
            } catch (WasmPluginException e) {
                context.metrics().plugin(link.name(), "failed");
                LOG.log(Level.WARNING, "plugin " + link.name() + " failed on request " + state.requestId + ": " + e.getMessage()
                        + (link.failOpen() ? " (failure mode open: skipped)" : ""));
                if (link.failOpen()) {
                    continue;
                }
                return new Changes(null, List.of(), List.of(), ErrorReply.pluginFailure(link.name()), null);
            }
            if (result.reply() != null) {
                context.metrics().plugin(link.name(), "answered");
                String text = new String(result.reply().body(), StandardCharsets.UTF_8);
                boolean json = text.stripLeading().startsWith("{");
                return new Changes(null, List.of(), List.of(), ErrorReply.pluginReply(link.name(), result.reply().status(),
                        text.strip()), json ? result.reply().body() : null);
            }
            context.metrics().plugin(link.name(), "passed");
            headers = result.headers();
            if (!java.util.Arrays.equals(result.body(), bytes)) {
                bytes = result.body();
                bodyChanged = true;
            }
        }
        return diff(state.pluginHeaders, headers, bodyChanged ? ByteString.copyFrom(bytes) : null);
    }

    /** The header changes from {@code before} to {@code after}, the filter's own headers and pseudo-headers left out. */
    private static Changes diff(List<Map.Entry<String, String>> before, List<Map.Entry<String, String>> after, ByteString body) {
        Map<String, String> was = lowerCased(before);
        Map<String, String> now = lowerCased(after);
        List<HeaderValue> set = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        now.forEach((name, value) -> {
            if (ownHeader(name) || name.equals("content-length")) {
                return; // the body mutation sets the length
            }
            if (!value.equals(was.get(name))) {
                set.add(ProcessingResponses.value(name, value));
            }
        });
        was.keySet().forEach(name -> {
            if (!now.containsKey(name) && !ownHeader(name) && !name.equals("content-length")) {
                removed.add(name);
            }
        });
        return set.isEmpty() && removed.isEmpty() && body == null ? Changes.NONE : new Changes(body, set, removed, null, null);
    }

    private static boolean ownHeader(String name) {
        return name.startsWith(":") || name.startsWith("x-aimesh-") || WireContract.INTERNAL_HEADERS.contains(name);
    }

    private static Map<String, String> lowerCased(List<Map.Entry<String, String>> headers) {
        Map<String, String> map = new LinkedHashMap<>();
        for (Map.Entry<String, String> header : headers) {
            map.merge(header.getKey().toLowerCase(Locale.ROOT), header.getValue(), (a, b) -> a + "," + b);
        }
        return map;
    }
}
