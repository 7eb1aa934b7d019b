package io.aimesh.filter.extproc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.Limit;
import io.aimesh.filter.api.Model;
import io.aimesh.filter.api.Tenant;
import io.aimesh.filter.config.CompiledConfigs;
import io.aimesh.filter.config.RuntimeConfig;
import io.aimesh.filter.limit.TokenLimiter;
import io.aimesh.filter.spend.SpendLedger;
import io.aimesh.picker.PoolPickers;
import io.aimesh.picker.PoolSetup;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Drives {@link RequestProcessor} in process, as Envoy would over ext_proc: ProcessingRequest
 * messages in, the ProcessingResponses recorded. One filter context (limiter on a fixed clock,
 * picker pools of the config) per harness; one processor per {@link #open} request.
 */
final class ProcessorHarness implements AutoCloseable {
    static final String ACME_KEY = "acme-key";
    /** The middle of a minute, so a test's budget never rolls over. */
    static final long NOW_MILLIS = 19_676L * 86_400_000L + 30_000;

    /** A model counted as characters / 4, with 16 output tokens by default. */
    static final Model LLAMA = Model.newBuilder().setName("llama").setTokenizer("approximate").setDefaultMaxTokens(16).build();

    final AtomicLong clock = new AtomicLong(NOW_MILLIS);
    final AtomicReference<RuntimeConfig> config = new AtomicReference<>();
    private final PoolPickers pickers = new PoolPickers();
    final FilterContext context;

    private ProcessorHarness(FilterConfig filterConfig) {
        if (filterConfig != null) {
            RuntimeConfig compiled = CompiledConfigs.of(filterConfig);
            Map<String, PoolSetup> setups = new HashMap<>();
            compiled.pools().forEach((name, pool) -> setups.put(name, pool.setup()));
            pickers.configure(setups);
            config.set(compiled);
        }
        context = new FilterContext(config::get, new TokenLimiter(clock::get, 1_000), new FilterMetrics(), pickers, () -> null,
                new SpendLedger(java.time.Clock.fixed(java.time.Instant.ofEpochMilli(NOW_MILLIS), java.time.ZoneOffset.UTC), null,
                        alert -> { }));
    }

    /** A filter on {@code config}; {@code null} for one that has no configuration yet. */
    static ProcessorHarness of(FilterConfig config) {
        return new ProcessorHarness(config);
    }

    /** Acme, known by {@link #ACME_KEY}, with {@code tokensPerMinute} total tokens of any model. */
    static Tenant.Builder acme(long tokensPerMinute) {
        return Tenant.newBuilder().setName("acme").addApiKeySha256(ApiKeys.sha256(ACME_KEY)).addAllowedModels("*")
                .addLimits(Limit.newBuilder().setId("*:tokens-per-minute:total").addModels("*").setWindowSeconds(60)
                        .setTokens(tokensPerMinute).setInputWeight(1).setOutputWeight(1));
    }

    /** A new request's stream. */
    Stream open() {
        Stream stream = new Stream();
        stream.processor = new RequestProcessor(stream, context);
        return stream;
    }

    @Override
    public void close() {
        context.close();
        pickers.close();
    }

    static ProcessingRequest headers(String method, String path, boolean endOfStream, String... namesAndValues) {
        HeaderMap.Builder map = HeaderMap.newBuilder()
                .addHeaders(HeaderValue.newBuilder().setKey(":method").setRawValue(ByteString.copyFromUtf8(method)))
                .addHeaders(HeaderValue.newBuilder().setKey(":path").setRawValue(ByteString.copyFromUtf8(path)));
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.addHeaders(HeaderValue.newBuilder().setKey(namesAndValues[i])
                    .setRawValue(ByteString.copyFromUtf8(namesAndValues[i + 1])));
        }
        return ProcessingRequest.newBuilder()
                .setRequestHeaders(HttpHeaders.newBuilder().setHeaders(map).setEndOfStream(endOfStream)).build();
    }

    /** Headers of a chat completion with acme's key. */
    static ProcessingRequest chatHeaders(String... more) {
        String[] all = new String[more.length + 2];
        all[0] = "authorization";
        all[1] = "Bearer " + ACME_KEY;
        System.arraycopy(more, 0, all, 2, more.length);
        return headers("POST", "/v1/chat/completions", false, all);
    }

    static ProcessingRequest body(String json) {
        return ProcessingRequest.newBuilder()
                .setRequestBody(HttpBody.newBuilder().setBody(ByteString.copyFromUtf8(json)).setEndOfStream(true)).build();
    }

    /** A response body message; {@code status} as Envoy's {@code response.code} attribute, or none when 0. */
    static ProcessingRequest responseBody(int status, String chunk, boolean endOfStream) {
        ProcessingRequest.Builder request = ProcessingRequest.newBuilder()
                .setResponseBody(HttpBody.newBuilder().setBody(ByteString.copyFromUtf8(chunk)).setEndOfStream(endOfStream));
        if (status != 0) {
            request.putAttributes("envoy.filters.http.ext_proc", Struct.newBuilder()
                    .putFields("response.code", Value.newBuilder().setNumberValue(status).build()).build());
        }
        return request.build();
    }

    /** A chat body for llama asking for {@code maxTokens} with a 16-character prompt. */
    static String chat(String extraFields) {
        return "{\"model\":\"llama\"," + extraFields + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hi to me now\"}]}";
    }

    /** One request's ext_proc stream: what the processor answered, in order. */
    static final class Stream implements StreamObserver<ProcessingResponse> {
        final List<ProcessingResponse> responses = new CopyOnWriteArrayList<>();
        RequestProcessor processor;
        boolean completed;

        /** Sends {@code request} and returns the answer it got, if any. */
        ProcessingResponse send(ProcessingRequest request) {
            int before = responses.size();
            processor.onNext(request);
            return responses.size() > before ? responses.get(responses.size() - 1) : null;
        }

        /** Sends the headers, then the body; the answer to the body (or to the headers when they were refused). */
        ProcessingResponse request(ProcessingRequest headers, String body) {
            ProcessingResponse answer = send(headers);
            if (answer.hasImmediateResponse()) {
                return answer;
            }
            return send(body(body));
        }

        @Override
        public void onNext(ProcessingResponse value) {
            responses.add(value);
        }

        @Override
        public void onError(Throwable t) {
            throw new AssertionError(t);
        }

        @Override
        public void onCompleted() {
            completed = true;
        }
    }

    /** The value the answer sets for header {@code name}, in its header mutation. */
    static Optional<String> setHeader(ProcessingResponse response, String name) {
        List<HeaderValueOption> set;
        if (response.hasImmediateResponse()) {
            set = response.getImmediateResponse().getHeaders().getSetHeadersList();
        } else if (response.hasRequestBody()) {
            set = response.getRequestBody().getResponse().getHeaderMutation().getSetHeadersList();
        } else {
            set = response.getRequestHeaders().getResponse().getHeaderMutation().getSetHeadersList();
        }
        return set.stream().filter(h -> h.getHeader().getKey().equals(name))
                .map(h -> h.getHeader().getRawValue().toStringUtf8()).findFirst();
    }

    /** A response header the answer hands Envoy as {@code aimesh} dynamic metadata (rate-limit headers, the decision). */
    static Optional<String> metadataHeader(ProcessingResponse response, String name) {
        Value namespace = response.getDynamicMetadata().getFieldsMap().get("aimesh");
        Value value = namespace == null ? null : namespace.getStructValue().getFieldsMap().get(name);
        return Optional.ofNullable(value).map(Value::getStringValue);
    }

    /** The {@code x-aimesh-decision} of an answer: immediate or forwarded. */
    static String decision(ProcessingResponse response) {
        return (response.hasImmediateResponse() ? setHeader(response, "x-aimesh-decision")
                : metadataHeader(response, "x-aimesh-decision")).orElseThrow();
    }

    /** acme's remaining tokens, as a new small request for llama sees them after admission. */
    long remainingAfterOneMore() {
        ProcessingResponse answer = open().request(chatHeaders(), chat("\"max_tokens\":1,"));
        return Long.parseLong(metadataHeader(answer, "x-ratelimit-remaining-tokens").orElseThrow());
    }
}
