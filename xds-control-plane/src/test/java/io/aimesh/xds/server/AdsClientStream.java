package io.aimesh.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The client end of one ADS stream: requests go out from the test thread (gRPC stubs are not
 * thread-safe for sending); responses are queued as they arrive and polled with a timeout.
 */
final class AdsClientStream<Q, R> implements AutoCloseable {
    /** How long a test watches for a response that must not come. */
    static final Duration QUIET = Duration.ofMillis(400);

    private final BlockingQueue<R> responses = new LinkedBlockingQueue<>();
    private final CompletableFuture<Status> closed = new CompletableFuture<>();
    private StreamObserver<Q> requests;
    private ClientCallStreamObserver<Q> call;

    void open(StreamObserver<Q> requests) {
        this.requests = requests;
    }

    ClientResponseObserver<Q, R> observer() {
        return new ClientResponseObserver<>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<Q> requestStream) {
                call = requestStream;
            }

            @Override
            public void onNext(R response) {
                responses.add(response);
            }

            @Override
            public void onError(Throwable t) {
                closed.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                closed.complete(Status.OK);
            }
        };
    }

    AdsClientStream<Q, R> send(Q request) {
        requests.onNext(request);
        return this;
    }

    /** The next response, failing the test when none arrives within {@link AdsTestServer#TIMEOUT}. */
    R next() throws InterruptedException {
        R response = responses.poll(AdsTestServer.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(response).as("a response within %s", AdsTestServer.TIMEOUT).isNotNull();
        return response;
    }

    /** Asserts that no response arrives for {@link #QUIET}. */
    void assertNoResponse() {
        await().during(QUIET).atMost(QUIET.plusSeconds(2)).pollInterval(Duration.ofMillis(20))
                .until(responses::isEmpty);
    }

    /** Half-closes the stream, as a client that is done does. */
    void complete() {
        requests.onCompleted();
    }

    /** Cancels the call, as a client that goes away does. */
    void cancel() {
        call.cancel("test cancels", null);
    }

    /** How the server ended the stream, waiting for it. */
    Status awaitClosed() throws Exception {
        return closed.get(AdsTestServer.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        if (!closed.isDone()) {
            call.cancel("test done", null);
        }
    }
}
