package io.aimesh.filter.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.Model;
import io.aimesh.filter.api.Stickiness;
import io.aimesh.filter.api.Version;
import io.aimesh.filter.api.VersionOverride;
import io.aimesh.filter.config.RuntimeConfig.ModelInfo;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Sticky version choice ({@link StickyDraw}) over many keys. Tolerances are 4.5 binomial standard
 * deviations of the key count: the keys are fixed, so a pass is repeatable, and a hash that skewed
 * a share by that much would fail.
 */
class StickyRoutingTest {
    private static final int KEYS = 10_000;
    private static final long PINNED_ALICE = -4192475849746331044L;

    private static ModelInfo model(int... weights) throws InvalidConfigException {
        Model.Builder model = Model.newBuilder().setName("llama").setTokenizer("approximate")
                .setStickiness(Stickiness.newBuilder().setBy(Stickiness.By.BY_HEADER).setName("x-user"))
                .addOverrides(VersionOverride.newBuilder().setHeader("x-aimesh-version").setValue("v1").setVersion("v1"));
        for (int i = 0; i < weights.length; i++) {
            model.addVersions(Version.newBuilder().setName("v" + (i + 1)).setPool("p" + (i + 1)).setWeight(weights[i]));
        }
        return RuntimeConfig.compile(FilterConfig.newBuilder().addModels(model).build(), "1").model("llama");
    }

    private static Map<String, String> place(ModelInfo model) {
        Map<String, String> placed = new HashMap<>();
        for (int key = 0; key < KEYS; key++) {
            // The draw is 0.0 for every key: only the key may decide.
            placed.put("user-" + key, model.choose(h -> null, 0.0, null, "user-" + key).version().name());
        }
        return placed;
    }

    private static double tolerance(double p) {
        return 4.5 * Math.sqrt(KEYS * p * (1 - p));
    }

    @Test
    void eachVersion_getsItsWeightOfTheKeys() throws Exception {
        Map<String, String> placed = place(model(90, 10));

        long v2 = placed.values().stream().filter("v2"::equals).count();
        assertThat((double) v2).isCloseTo(KEYS * 0.1, org.assertj.core.data.Offset.offset(tolerance(0.1)));
    }

    @Test
    void aStepFrom10To20Percent_movesOnlyTheKeysThatMust_andOnlyTowardsTheCanary() throws Exception {
        Map<String, String> before = place(model(90, 10));
        Map<String, String> after = place(model(80, 20));

        long changed = before.keySet().stream().filter(k -> !before.get(k).equals(after.get(k))).count();
        long backToV1 = before.keySet().stream().filter(k -> before.get(k).equals("v2") && after.get(k).equals("v1")).count();
        System.out.printf("StickyRoutingTest: 10 -> 20 %%: %d of %d keys changed version, %d from v2 to v1%n", changed, KEYS,
                backToV1);
        assertThat((double) changed).isCloseTo(KEYS * 0.1, org.assertj.core.data.Offset.offset(tolerance(0.1)));
        assertThat(backToV1).isZero();
        long v2 = after.values().stream().filter("v2"::equals).count();
        assertThat((double) v2).isCloseTo(KEYS * 0.2, org.assertj.core.data.Offset.offset(tolerance(0.2)));
    }

    @Test
    void withThreeVersions_keysMoveOnlyOffALoserOrOntoAGainer() throws Exception {
        Map<String, String> before = place(model(50, 30, 20));
        Map<String, String> after = place(model(30, 30, 40));

        long changed = before.keySet().stream().filter(k -> !before.get(k).equals(after.get(k))).count();
        System.out.printf("StickyRoutingTest: 50/30/20 -> 30/30/40: %d of %d keys changed version (at least 2000 must)%n",
                changed, KEYS);
        // v1 lost weight, v2 kept its own, v3 gained: no key goes to v1, and v2's keys leave only for v3.
        assertThat(before.keySet()).allSatisfy(k -> {
            assertThat(!before.get(k).equals("v1") && after.get(k).equals("v1")).as(k).isFalse();
            assertThat(before.get(k).equals("v2") && after.get(k).equals("v1")).as(k).isFalse();
        });
        long v3 = after.values().stream().filter("v3"::equals).count();
        assertThat((double) v3).isCloseTo(KEYS * 0.4, org.assertj.core.data.Offset.offset(tolerance(0.4)));
        // Cumulative buckets in policy order would move 40 %; the fewest possible is 20 %.
        assertThat(changed).isLessThan(KEYS * 35 / 100);
    }

    @Test
    void theSameKey_getsTheSameVersion_andOverridesStillWin() throws Exception {
        ModelInfo model = model(50, 50);
        RuntimeConfig.Choice first = model.choose(h -> null, 0.1, null, "alice");

        for (double draw = 0; draw < 1; draw += 0.05) {
            assertThat(model.choose(h -> null, draw, null, "alice")).isEqualTo(first);
        }
        assertThat(first.rule()).isEqualTo(RouteRule.STICKY);
        assertThat(model.choose(Map.of("x-aimesh-version", "v1")::get, 0.9, null, "alice").rule()).isEqualTo(RouteRule.OVERRIDE);
    }

    @Test
    void aVersionOfWeightZero_getsNoKeys() throws Exception {
        assertThat(place(model(100, 0)).values()).containsOnly("v1");
    }

    @Test
    void withoutAKey_theDrawDecides() throws Exception {
        ModelInfo model = model(50, 50);

        assertThat(model.choose(h -> null, 0.1, null, null).version().name()).isEqualTo("v1");
        assertThat(model.choose(h -> null, 0.9, null, null).version().name()).isEqualTo("v2");
        assertThat(model.choose(h -> null, 0.9, null, null).rule()).isEqualTo(RouteRule.WEIGHT);
    }

    @Test
    void theHash_isPinned() {
        // A replica on another JVM, or after an upgrade, must place every key the same way.
        assertThat(StickyDraw.hash("alice")).isEqualTo(PINNED_ALICE);
    }

}
