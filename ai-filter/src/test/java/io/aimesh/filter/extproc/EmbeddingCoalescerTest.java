package io.aimesh.filter.extproc;

import static org.assertj.core.api.Assertions.assertThat;

import static org.awaitility.Awaitility.await;

import io.aimesh.filter.config.RuntimeConfig.CoalesceInfo;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A coalesced call's usage, shared among its requests: never negative, always the whole; and every
 * request answered exactly once when the call fails or never returns.
 */
class EmbeddingCoalescerTest {
    @Test
    void aModelServerThatRefusesConnections_getsEveryRequestA502_once() throws Exception {
        // Bound but not listening, for the whole test: connecting is refused, and no other process can take the port.
        try (Socket deadSocket = new Socket()) {
            deadSocket.bind(new InetSocketAddress("127.0.0.1", 0));
            int dead = deadSocket.getLocalPort();
            ConcurrentHashMap<Integer, ConcurrentLinkedQueue<Integer>> answers = new ConcurrentHashMap<>();
            try (EmbeddingCoalescer coalescer = new EmbeddingCoalescer()) {
                CoalesceInfo settings = new CoalesceInfo(8, 1, List.of("127.0.0.1:" + dead), List.of(1));
                for (int i = 0; i < 5; i++) {
                    int request = i;
                    answers.put(request, new ConcurrentLinkedQueue<>());
                    coalescer.submit("m", settings, List.of("text " + i), TimeUnit.SECONDS.toNanos(30),
                            slice -> answers.get(request).add(slice.status()));
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> answers.values().stream().allMatch(a -> !a.isEmpty()));
            }
            assertThat(answers.values()).allSatisfy(statuses -> assertThat(statuses).containsExactly(502));
        }
    }

    @Test
    void aModelServerThatNeverAnswers_getsEveryRequestA504AtItsDeadline_once() throws Exception {
        ConcurrentLinkedQueue<Integer> statuses = new ConcurrentLinkedQueue<>();
        try (ServerSocket silent = new ServerSocket()) {
            silent.bind(new InetSocketAddress("127.0.0.1", 0));
            Thread accepter = new Thread(() -> {
                try {
                    List<Socket> held = new java.util.ArrayList<>();
                    while (!silent.isClosed()) {
                        held.add(silent.accept()); // accepted, never answered
                    }
                } catch (java.io.IOException e) {
                    // closed at the end of the test
                }
            });
            accepter.setDaemon(true);
            accepter.start();
            try (EmbeddingCoalescer coalescer = new EmbeddingCoalescer()) {
                CoalesceInfo settings = new CoalesceInfo(8, 1, List.of("127.0.0.1:" + silent.getLocalPort()), List.of(1));
                for (int i = 0; i < 3; i++) {
                    coalescer.submit("m", settings, List.of("text " + i), TimeUnit.MILLISECONDS.toNanos(200),
                            slice -> statuses.add(slice.status()));
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> statuses.size() == 3);
            }
        }
        assertThat(statuses).containsExactly(504, 504, 504);
    }

    @Test
    void usageShares_byLargestRemainder_sumToTheWhole_andAreNeverNegative() {
        List<EmbeddingCoalescer.Pending> six = List.of(pending("aa"), pending("aa"), pending("aa"), pending("aa"),
                pending("aa"), pending("aa"));
        assertThat(EmbeddingCoalescer.shares(six, 9)).containsExactly(2, 2, 2, 1, 1, 1);
        assertThat(EmbeddingCoalescer.shares(six, 0)).containsOnly(0);
        assertThat(EmbeddingCoalescer.shares(six, -5)).containsOnly(0);

        List<EmbeddingCoalescer.Pending> uneven = List.of(pending("a"), pending("aaaaaaaaa"));
        assertThat(EmbeddingCoalescer.shares(uneven, 10)).containsExactly(1, 9);
    }

    private static EmbeddingCoalescer.Pending pending(String text) {
        return new EmbeddingCoalescer.Pending(List.of(text), slice -> { }, System.nanoTime());
    }
}
