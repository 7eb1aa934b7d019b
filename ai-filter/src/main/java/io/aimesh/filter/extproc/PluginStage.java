package io.aimesh.filter.extproc;

import com.google.protobuf.ByteString;
import io.aimesh.filter.api.PluginPhase;
import io.aimesh.filter.api.WireContract;
import io.aimesh.filter.body.ParsedRequest;
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
 * body the plugins leave); then, for the plugins with a response phase, on the response headers and
 * each response body chunk, in reverse order as Envoy runs its encoder filters. A plugin may change
 * headers (the filter's own {@code x-aimesh-*} headers and pseudo-headers excepted: those stay the
 * filter's), replace a body, or answer itself: its status and body become the answer, as
 * OpenAI-style error JSON unless it answered JSON. A plugin that traps or runs past its time fails
 * the request with 500 (on a response already under way: the response is cut), or is skipped when
 * its failure mode is {@code open}.
 *
 * <p>An instance per request that has plugins on its response (see {@link #run}); confined to the
 * request's processor.
 */
final class PluginStage {
    private static final System.Logger LOG = System.getLogger(PluginStage.class.getName());

    /**
     * What the chain made of the request or its response headers.
     *
     * @param body the body after the plugins, or {@code null} when they left it as it was
     * @param set headers to set
     * @param removed headers to remove
     * @param reply the answer that ends the request (a plugin's own, or a failure), or {@code null}
     * @param json the plugin's own answer as it gave it, when it is JSON (then sent as is), else {@code null}
     * @param replyHeaders the headers the plugin gave its own answer
     */
    record Changes(ByteString body, List<HeaderValue> set, List<String> removed, ErrorReply reply, byte[] json,
                   List<HeaderValue> replyHeaders) {
        static final Changes NONE = new Changes(null, List.of(), List.of(), null, null, List.of());

        static Changes failure(String plugin) {
            return new Changes(null, List.of(), List.of(), ErrorReply.pluginFailure(plugin), null, List.of());
        }
    }

    /** A plugin that let the request through and runs on its response. */
    private record Open(PluginChain.Link link, WasmPlugin.Stream stream) {
    }

    private final FilterContext context;
    private final String requestId;
    /** In request order; the response runs them last to first. */
    private final List<Open> open = new ArrayList<>();

    private PluginStage(FilterContext context, String requestId) {
        this.context = context;
        this.requestId = requestId;
    }

    /**
     * Runs the request phases. The plugins that run on the response stay open in
     * {@code state.plugins} (set only when there are some) until {@link #close}.
     */
    static Changes run(FilterContext context, RequestState state, ByteString body) {
        List<PluginChain.Link> chain = context.plugins().current();
        if (chain.isEmpty() || state.pluginHeaders == null) {
            return Changes.NONE;
        }
        String model = chain.stream().anyMatch(link -> !link.models().isEmpty()) ? clientModel(context, state, body) : null;
        PluginStage stage = new PluginStage(context, state.requestId);
        List<Map.Entry<String, String>> headers = state.pluginHeaders;
        byte[] bytes = body.toByteArray();
        boolean bodyChanged = false;
        for (PluginChain.Link link : chain) {
            if (!link.appliesTo(state.tenantName(), model)) {
                continue;
            }
            WasmPlugin.Stream stream = null;
            WasmPlugin.RequestResult result;
            try {
                if (link.plugin() == null) {
                    throw new WasmPluginException("not loaded: " + link.broken(), null);
                }
                stream = link.plugin().open(headers);
                result = stream.request(bytes, link.phases().contains(PluginPhase.PLUGIN_PHASE_REQUEST_HEADERS),
                        link.phases().contains(PluginPhase.PLUGIN_PHASE_REQUEST_BODY));
            } catch (WasmPluginException e) {
                if (stream != null) {
                    stream.close();
                }
                if (stage.failed(link, e)) {
                    stage.close();
                    return Changes.failure(link.name());
                }
                continue;
            }
            if (result.reply() != null) {
                stream.close();
                stage.close();
                return stage.answered(link, result.reply());
            }
            context.metrics().plugin(link.name(), "passed");
            if (link.onResponse()) {
                stage.open.add(new Open(link, stream));
            } else {
                stream.close();
            }
            headers = result.headers();
            if (!java.util.Arrays.equals(result.body(), bytes)) {
                bytes = result.body();
                bodyChanged = true;
            }
        }
        if (!stage.open.isEmpty()) {
            state.plugins = stage;
        }
        if (bodyChanged) {
            state.parsedBody = null; // the body the filter reads is the plugins': the early parse does not stand
        }
        return diff(state.pluginHeaders, headers, bodyChanged ? ByteString.copyFrom(bytes) : null, true);
    }

    /**
     * The response headers phase, last plugin first.
     *
     * @param headers the response's headers as Envoy sent them
     */
    Changes responseHeaders(List<Map.Entry<String, String>> headers, boolean endOfStream) {
        List<Map.Entry<String, String>> now = headers;
        for (int i = open.size() - 1; i >= 0; i--) {
            Open plugin = open.get(i);
            if (!plugin.link().phases().contains(PluginPhase.PLUGIN_PHASE_RESPONSE_HEADERS)) {
                continue;
            }
            WasmPlugin.ResponseHeadersResult result;
            try {
                result = plugin.stream().responseHeaders(now, endOfStream);
            } catch (WasmPluginException e) {
                open.remove(i);
                if (failed(plugin.link(), e)) {
                    close();
                    return Changes.failure(plugin.link().name());
                }
                continue;
            }
            if (result.reply() != null) {
                close();
                return answered(plugin.link(), result.reply());
            }
            now = result.headers();
        }
        return diff(headers, now, null, false);
    }

    /**
     * The response body phase for one chunk, last plugin first.
     *
     * @return the chunk to send on (maybe empty while a plugin holds the body), {@code null} when no
     *     plugin changed it, or {@link #CUT} when a plugin that fails closed failed: the response must not go on
     */
    ByteString responseBody(ByteString chunk, boolean endOfStream) {
        byte[] bytes = chunk.toByteArray();
        boolean changed = false;
        for (int i = open.size() - 1; i >= 0; i--) {
            Open plugin = open.get(i);
            if (!plugin.link().phases().contains(PluginPhase.PLUGIN_PHASE_RESPONSE_BODY)) {
                continue;
            }
            byte[] after;
            try {
                after = plugin.stream().responseBody(bytes, endOfStream);
            } catch (WasmPluginException e) {
                open.remove(i);
                if (failed(plugin.link(), e)) {
                    close();
                    return CUT;
                }
                continue;
            }
            if (!java.util.Arrays.equals(after, bytes)) {
                bytes = after;
                changed = true;
            }
        }
        return changed ? ByteString.copyFrom(bytes) : null;
    }

    /** What {@link #responseBody} returns when the response must be cut. */
    static final ByteString CUT = ByteString.copyFromUtf8("aimesh: cut by a failed plugin");

    /** Ends the request in every plugin still open on it. */
    void close() {
        for (Open plugin : open) {
            plugin.stream().close();
        }
        open.clear();
    }

    /** Counts and logs a failure; whether the request fails with it (failure mode closed). */
    private boolean failed(PluginChain.Link link, WasmPluginException e) {
        context.metrics().plugin(link.name(), "failed");
        LOG.log(Level.WARNING, "plugin " + link.name() + " failed on request " + requestId + ": " + e.getMessage()
                + (link.failOpen() ? " (failure mode open: skipped)" : ""));
        return !link.failOpen();
    }

    private Changes answered(PluginChain.Link link, WasmPlugin.LocalReply reply) {
        context.metrics().plugin(link.name(), "answered");
        String text = new String(reply.body(), StandardCharsets.UTF_8);
        boolean json = text.stripLeading().startsWith("{");
        List<HeaderValue> headers = new ArrayList<>();
        for (Map.Entry<String, String> header : reply.headers()) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (!ownHeader(name) && !name.equals("content-type") && !name.equals("content-length")) {
                headers.add(ProcessingResponses.value(name, header.getValue()));
            }
        }
        return new Changes(null, List.of(), List.of(), ErrorReply.pluginReply(link.name(), reply.status(), text.strip()),
                json ? reply.body() : null, headers);
    }

    /**
     * The model the client names, for plugins scoped to models; {@code null} when the body does not
     * parse. The parse is kept in {@code state.parsedBody}, for {@link ParseStage} when no plugin
     * changes the body: it is parsed once.
     */
    private static String clientModel(FilterContext context, RequestState state, ByteString body) {
        state.parsedBody = context.parse(state.config, state.path, state.contentType, body);
        return state.parsedBody instanceof ParsedRequest parsed ? parsed.model() : null;
    }

    /**
     * The header changes from {@code before} to {@code after}, the filter's own headers and
     * pseudo-headers left out, and on a request content-length (the body mutation sets it). On a
     * response a plugin's content-length change stands: one that rewrites the body drops it, as in Envoy.
     */
    private static Changes diff(List<Map.Entry<String, String>> before, List<Map.Entry<String, String>> after, ByteString body,
                                boolean request) {
        Map<String, String> was = lowerCased(before);
        Map<String, String> now = lowerCased(after);
        List<HeaderValue> set = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        now.forEach((name, value) -> {
            if (ownHeader(name) || request && name.equals("content-length")) {
                return;
            }
            if (!value.equals(was.get(name))) {
                set.add(ProcessingResponses.value(name, value));
            }
        });
        was.keySet().forEach(name -> {
            if (!now.containsKey(name) && !ownHeader(name) && !(request && name.equals("content-length"))) {
                removed.add(name);
            }
        });
        return set.isEmpty() && removed.isEmpty() && body == null ? Changes.NONE
                : new Changes(body, set, removed, null, null, List.of());
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
