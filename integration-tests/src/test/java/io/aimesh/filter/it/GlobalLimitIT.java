package io.aimesh.filter.it;

import io.aimesh.testing.Mesh;
import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.testing.RedisServer;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Global limits on the real path (Envoy → ai-filter → model-sim, with Redis): the tenant's budget
 * is counted in Redis, and a filter replica that replaces another (a restart, as a new replica
 * would join) does not get a fresh budget: it learns the tokens already used from Redis.
 */
class GlobalLimitIT {
    private static final long LIMIT = 600;
    private static final long LEASE = 60;

    @Test
    void theBudgetIsCountedInRedis_andAReplacementReplicaKeepsToIt() throws Exception {
        try (RedisServer redis = RedisServer.start();
             Mesh mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(LIMIT).defaultMaxTokens(64)
                     .gatewayIdentity("{trustedHop: true}\n  globalLimits: {redis: \"" + redis.uri() + "\", leaseTokens: " + LEASE
                             + ", syncInterval: 5ms}").start()) {
            long minute = System.currentTimeMillis() / 60_000;
            long admittedByFirst = spend(mesh);
            String key = "aimesh:budget:acme/*:tokens-per-minute:total/*:" + minute; // tenant/limit name/scope
            if (System.currentTimeMillis() / 60_000 != minute) {
                return; // the minute turned during the run: the budget restarted, nothing to compare
            }
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> redis.get(key) >= admittedByFirst);
            assertThat(admittedByFirst).isLessThanOrEqualTo(LIMIT + LEASE);

            mesh.stopFilter();
            mesh.startFilter(); // a new replica: its own budgets are empty, the shared ones are not
            long admittedBySecond = spend(mesh);
            if (System.currentTimeMillis() / 60_000 == minute) {
                assertThat(admittedBySecond).as("tokens a replacement replica admits in the same minute")
                        .isLessThanOrEqualTo(LEASE + 100);
                assertThat(admittedByFirst + admittedBySecond).isLessThanOrEqualTo(LIMIT + 2 * LEASE + 100);
            }
        }
    }

    /**
     * acme's requests (about 30 tokens each) until the budget refuses them for good; the tokens the
     * admitted ones used. A refusal with retry-after 1 s is this replica's lease being out for a round
     * trip: the request is sent again, for up to 30 s.
     */
    private static long spend(Mesh mesh) throws Exception {
        long used = 0;
        // Bounded by time, not by count: on a loaded machine a lease can be out for many quick
        // refusals in a row (each answered at once), which is not the budget refusing for good.
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            HttpResponse<String> response = mesh.chat(Mesh.ACME_KEY, false, 20, Map.of());
            if (response.statusCode() == 429 && response.headers().firstValue("retry-after").orElse("").equals("1")) {
                continue;
            }
            if (response.statusCode() == 429) {
                assertThat(response.headers().firstValue("x-aimesh-decision").orElseThrow()).startsWith("limited tenant=acme");
                return used;
            }
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            used += new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body()).at("/usage/total_tokens").asLong();
        }
        throw new AssertionError("acme was never limited");
    }
}
