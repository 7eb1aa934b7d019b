package io.aimesh.filter.extproc;

import io.aimesh.filter.api.WireContract;
import io.aimesh.filter.body.SseUsageScanner;
import io.aimesh.filter.body.Usage;
import io.aimesh.filter.body.UsageReader;
import io.aimesh.filter.config.RuntimeConfig.MirrorInfo;
import io.aimesh.picker.Endpoint;
import io.aimesh.picker.InFlight;
import io.aimesh.picker.Pick;
import io.aimesh.picker.PoolPicker;
import io.aimesh.picker.RequestFeatures;
import java.io.ByteArrayOutputStream;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Shadow traffic ({@code ModelRoute.spec.mirror}): sends a copy of a request to the mirrored
 * version straight from the filter, reads the answer only to count its tokens and time, and drops
 * it. The client's request is forwarded first and never waits for its copy.
 *
 * <p>Why the filter and not Envoy's {@code request_mirror_policies}: a copy Envoy sends bypasses
 * the filter chain, so nothing could count its tokens or tell it apart in metrics, and Envoy cannot
 * know that the mirrored pool is saturated. Here a copy is shed, never queued, whenever it would
 * compete with real requests: when this replica already has {@code maxInFlight} copies of the model
 * out, when the version's picker pool has a request waiting for an endpoint, or when the picker
 * finds every endpoint saturated. The copy holds its endpoint like a real request (the picker counts
 * it in flight), so real requests see its load.
 *
 * <p>A copy carries the request's body (with usage asked for, when the filter asked the primary for
 * it), its path, {@code content-type}, {@code x-aimesh-tenant} and {@code x-aimesh-shadow: true};
 * never the client's credentials. Its tokens are never charged to a budget.
 *
 * <p>Thread-safe; {@link #send} never blocks.
 */
final class ShadowSender {
    private static final System.Logger LOG = System.getLogger(ShadowSender.class.getName());
    /** The most of a non-streamed answer read for its usage; a longer one is counted without it. */
    private static final int MAX_JSON_BYTES = 4 << 20;

    /** Why a copy was not sent, or how it ended: {@code aimesh_filter_shadow_requests_total}'s outcome. */
    enum Result {
        OK("ok"), ERROR("error"), SHED_IN_FLIGHT("shed_in_flight"), SHED_SATURATED("shed_saturated");

        private final String label;

        Result(String label) {
            this.label = label;
        }

        String label() {
            return label;
        }
    }

    /** A request to copy: where it came from, and what it carried. */
    record Copy(String model, String path, byte[] body, String tenant, String promptText) {
    }

    /** HTTP/1.1: the JDK would otherwise offer an h2c upgrade on every new connection to a model server. */
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final FilterMetrics metrics;
    private final ConcurrentHashMap<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    private final AtomicInteger nextEndpoint = new AtomicInteger();

    ShadowSender(FilterMetrics metrics) {
        this.metrics = metrics;
    }

    /**
     * Sends {@code copy} to {@code mirror}'s version, unless it is shed.
     *
     * @param picker the version's picker pool, or {@code null} when Envoy balances it ({@code mirror}'s endpoints then)
     * @param waiting requests of this replica waiting for an endpoint of that pool
     * @return what became of it now: {@link Result#OK} when it went out (its end is counted later)
     */
    Result send(Copy copy, MirrorInfo mirror, PoolPicker picker, int waiting) {
        String version = mirror.version().name();
        AtomicInteger out = inFlight.computeIfAbsent(copy.model(), m -> new AtomicInteger());
        if (out.incrementAndGet() > mirror.maxInFlight()) {
            out.decrementAndGet();
            return shed(copy, version, Result.SHED_IN_FLIGHT);
        }
        String authority;
        InFlight held = null;
        if (picker != null) {
            Pick pick = waiting > 0 ? Pick.SATURATED : picker.pick(RequestFeatures.of(copy.promptText()));
            if (!pick.picked()) {
                out.decrementAndGet();
                return shed(copy, version, Result.SHED_SATURATED);
            }
            held = picker.started(pick.endpoint());
            authority = pick.endpoint().authority();
        } else if (!mirror.endpoints().isEmpty()) {
            List<String> endpoints = mirror.endpoints();
            authority = endpoints.get(Math.floorMod(nextEndpoint.getAndIncrement(), endpoints.size()));
        } else {
            out.decrementAndGet();
            return shed(copy, version, Result.SHED_SATURATED);
        }
        dispatch(copy, mirror, version, authority, held, out);
        return Result.OK;
    }

    private Result shed(Copy copy, String version, Result result) {
        metrics.shadow(copy.model(), version, result.label());
        return result;
    }

    private void dispatch(Copy copy, MirrorInfo mirror, String version, String authority, InFlight held, AtomicInteger out) {
        long start = System.nanoTime();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + authority + copy.path()))
                .header("content-type", "application/json")
                .header(WireContract.SHADOW_HEADER, "true")
                .POST(HttpRequest.BodyPublishers.ofByteArray(copy.body()));
        if (copy.tenant() != null) {
            request.header(WireContract.TENANT_HEADER, copy.tenant());
        }
        if (mirror.timeout().compareTo(Duration.ZERO) > 0) {
            request.timeout(mirror.timeout());
        }
        http.sendAsync(request.build(), info -> answerReader(info, held, start)).whenComplete((response, error) -> {
            out.decrementAndGet();
            if (held != null) {
                held.finished();
            }
            boolean ok = error == null && response.statusCode() / 100 == 2;
            metrics.shadow(copy.model(), version, (ok ? Result.OK : Result.ERROR).label());
            metrics.shadowFinished(copy.model(), version, System.nanoTime() - start);
            if (error != null) {
                LOG.log(Level.DEBUG, "shadow copy of " + copy.model() + " to " + version + " at " + authority + " failed: " + error);
            } else {
                response.body().ifPresent(usage -> metrics.shadowUsage(copy.model(), version, usage.promptTokens(),
                        usage.completionTokens()));
            }
        });
    }

    /** Reads an answer for its usage: SSE events as they come, or a JSON body up to {@link #MAX_JSON_BYTES}. */
    private static HttpResponse.BodySubscriber<Optional<Usage>> answerReader(HttpResponse.ResponseInfo info, InFlight held,
                                                                             long start) {
        boolean events = info.headers().firstValue("content-type").orElse("").startsWith("text/event-stream");
        return HttpResponse.BodySubscribers.fromSubscriber(new AnswerReader(events, held, start), AnswerReader::usage);
    }

    /** Counts what one answer used; nothing of it is kept but what its usage needs. */
    private static final class AnswerReader implements Flow.Subscriber<List<ByteBuffer>> {
        private final SseUsageScanner scanner;
        private final ByteArrayOutputStream json;
        private final InFlight held;
        private final long start;
        private boolean first = true;
        private boolean overflow;

        AnswerReader(boolean events, InFlight held, long start) {
            this.scanner = events ? SseUsageScanner.of(false) : null;
            this.json = events ? null : new ByteArrayOutputStream();
            this.held = held;
            this.start = start;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> chunks) {
            if (first && held != null) {
                held.firstToken(System.nanoTime() - start);
            }
            first = false;
            for (ByteBuffer chunk : chunks) {
                if (scanner != null) {
                    scanner.scan(chunk, false);
                } else if (!overflow && json.size() + chunk.remaining() <= MAX_JSON_BYTES) {
                    byte[] bytes = new byte[chunk.remaining()];
                    chunk.get(bytes);
                    json.writeBytes(bytes);
                } else {
                    overflow = true;
                }
            }
        }

        @Override
        public void onError(Throwable throwable) {
            // The copy failed: sendAsync's future reports it.
        }

        @Override
        public void onComplete() {
            if (scanner != null) {
                scanner.scan(ByteBuffer.allocate(0), true);
            }
        }

        Optional<Usage> usage() {
            if (scanner != null) {
                return scanner.usage();
            }
            return overflow ? Optional.empty() : UsageReader.fromJson(json.toByteArray());
        }
    }
}
