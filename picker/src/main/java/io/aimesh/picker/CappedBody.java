package io.aimesh.picker;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * A response body read as UTF-8 text, failing with an {@link IOException} once it grows past a
 * limit, so that a misbehaving endpoint cannot make the monitor buffer without bound (JDK 17's
 * {@code BodyHandlers} have no limit).
 *
 * <p>The HTTP client calls it as a {@link Flow.Subscriber}: one thread at a time, in order.
 */
final class CappedBody implements HttpResponse.BodySubscriber<String> {
    private final int maxBytes;
    private final CompletableFuture<String> text = new CompletableFuture<>();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private Flow.Subscription subscription;

    /** @param maxBytes the largest body accepted, {@code >= 0} */
    CappedBody(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        this.subscription = subscription;
        subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
        if (text.isDone()) {
            return;
        }
        for (ByteBuffer buffer : buffers) {
            if (buffer.remaining() > maxBytes - bytes.size()) {
                subscription.cancel();
                text.completeExceptionally(new IOException("response body over " + maxBytes + " bytes"));
                return;
            }
            byte[] chunk = new byte[buffer.remaining()];
            buffer.get(chunk);
            bytes.write(chunk, 0, chunk.length);
        }
    }

    @Override
    public void onError(Throwable error) {
        text.completeExceptionally(error);
    }

    @Override
    public void onComplete() {
        text.complete(bytes.toString(UTF_8));
    }

    @Override
    public CompletionStage<String> getBody() {
        return text;
    }
}
