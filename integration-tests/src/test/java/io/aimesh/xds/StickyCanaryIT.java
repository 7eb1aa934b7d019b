package io.aimesh.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.testing.Mesh;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Sticky canaries ({@code ModelRoute.spec.stickiness}) through a real Envoy: each user, named by a
 * header, stays on one version while the weights stand, and a canary step moves only the users it
 * must, from v1 to v2.
 */
class StickyCanaryIT {
    private static final int USERS = 300;
    private static final String STICKY = "  stickiness: {by: header, name: x-user}\n";
    private Mesh mesh;

    @AfterEach
    void stop() throws Exception {
        if (mesh != null) {
            mesh.close();
        }
    }

    @Test
    void eachUserStaysOnItsVersion_andAStepMovesOnlyUsersFromV1ToV2() throws Exception {
        mesh = Mesh.builder().canary(90, 10).filter("closed").start();
        weights(90, 10);

        Map<String, String> first = versions();
        Map<String, String> again = versions();
        weights(80, 20);
        Map<String, String> stepped = versions();

        assertThat(again).isEqualTo(first);
        long v2 = first.values().stream().filter("v2"::equals).count();
        long moved = first.keySet().stream().filter(u -> !first.get(u).equals(stepped.get(u))).count();
        long backToV1 = first.keySet().stream().filter(u -> first.get(u).equals("v2") && stepped.get(u).equals("v1")).count();
        System.out.printf("StickyCanaryIT: %d users: %d on v2 at 10 %%; the step to 20 %% moved %d (expected ~%d), %d back to v1%n",
                USERS, v2, moved, USERS / 10, backToV1);
        // Binomial tolerances, 4.9 sd: 10 % of 300 is 30 +- 25; the step moves 10 % more (a fresh draw
        // per request would move about 28 % of users, some of them back to v1).
        double sd = Math.sqrt(USERS * 0.1 * 0.9);
        assertThat((double) v2).isBetween(USERS * 0.1 - 4.9 * sd, USERS * 0.1 + 4.9 * sd);
        assertThat((double) moved).isBetween(USERS * 0.1 - 4.9 * sd, USERS * 0.1 + 4.9 * sd);
        assertThat(backToV1).isZero();
    }

    @Test
    void anOverride_stillWins_andARequestWithoutTheKeyIsDrawn() throws Exception {
        mesh = Mesh.builder().canary(90, 10).filter("closed").start();
        weights(50, 50);

        HttpResponse<String> forced = mesh.chat(Mesh.GLOBEX_KEY, false, 2, Map.of("x-user", "u1", "x-aimesh-version", "v2"));
        HttpResponse<String> sticky = mesh.chat(Mesh.GLOBEX_KEY, false, 2, Map.of("x-user", "u1"));
        Map<String, Long> keyless = new HashMap<>();
        for (int i = 0; i < 60; i++) {
            keyless.merge(mesh.chat(Mesh.GLOBEX_KEY, false, 2, Map.of()).headers().firstValue("x-model-sim-version")
                    .orElseThrow(), 1L, Long::sum);
        }

        assertThat(forced.headers().firstValue("x-model-sim-version")).hasValue("v2");
        assertThat(forced.headers().firstValue("x-aimesh-decision").orElseThrow()).startsWith("admitted rule=override");
        assertThat(sticky.headers().firstValue("x-aimesh-decision").orElseThrow()).startsWith("admitted rule=sticky");
        // 60 draws at 50 %: both versions, unless one came up 60 times in a row (2^-59).
        assertThat(keyless.keySet()).containsExactlyInAnyOrder("v1", "v2");
    }

    private void weights(int v1, int v2) throws Exception {
        String before = mesh.filter().configVersion();
        mesh.writePolicy("routes.yaml", mesh.route(v1, v2) + STICKY);
        await().atMost(Duration.ofSeconds(10)).until(() -> !mesh.filter().configVersion().equals(before));
    }

    /** Each user's version, from one request each. */
    private Map<String, String> versions() {
        Map<String, String> versions = new HashMap<>();
        for (int user = 0; user < USERS; user++) {
            HttpResponse<String> answer = mesh.chat(Mesh.GLOBEX_KEY, false, 2, Map.of("x-user", "user-" + user));
            assertThat(answer.statusCode()).isEqualTo(200);
            versions.put("user-" + user, answer.headers().firstValue("x-model-sim-version").orElseThrow());
        }
        return versions;
    }
}
