package io.aimesh.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RolloutPolicyTest {
    private static final String BASE = TwoVersionRoute.POLICIES;

    @Test
    void readsStepsRulesAndDefaults() {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", BASE + """
                  rollout:
                    baseline: v1
                    canary: v2
                    steps: [{weight: 10, minDuration: 5s, minRequests: 20}, {weight: 50}]
                    analysis:
                      window: 10s
                      rules: {ttftP99: 1.3x, errorRate: "+1%", outputLengthDrift: 25%}
                """));

        assertThat(result.errors()).isEmpty();
        Rollout rollout = result.policies().routes().get(0).rollout();
        assertThat(rollout.baseline()).isEqualTo("v1");
        assertThat(rollout.canary()).isEqualTo("v2");
        assertThat(rollout.steps()).containsExactly(new Rollout.Step(10, Duration.ofSeconds(5), 20),
                new Rollout.Step(50, Duration.ofSeconds(60), 100));
        assertThat(rollout.analysis().window()).isEqualTo(Duration.ofSeconds(10));
        assertThat(rollout.analysis().minSamples()).isEqualTo(2);
        assertThat(rollout.analysis().rules()).containsExactly(new Rollout.Rule(Rollout.Metric.TTFT_P99, 1.3),
                new Rollout.Rule(Rollout.Metric.ERROR_RATE, 0.01), new Rollout.Rule(Rollout.Metric.OUTPUT_LENGTH_DRIFT, 0.25));
        assertThat(result.policies().filterRouted(result.policies().routes().get(0))).isTrue();
    }

    @Test
    void withoutAnalysis_theDefaultRulesJudge() {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", BASE + """
                  rollout: {baseline: v1, canary: v2, steps: [{weight: 20}]}
                """));

        assertThat(result.errors()).isEmpty();
        assertThat(result.policies().routes().get(0).rollout().analysis().rules()).containsExactly(
                new Rollout.Rule(Rollout.Metric.TTFT_P99, 1.5), new Rollout.Rule(Rollout.Metric.ERROR_RATE, 0.01));
    }

    @Test
    void badRollouts_sayWhereAndWhy() {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", BASE + """
                  rollout:
                    baseline: v1
                    canary: v2
                    steps: [{weight: 50}, {weight: 20}, {weight: 101}]
                    analysis: {rules: {ttftP99: "1.3", errorRate: "1%"}}
                """));

        List<String> errors = result.errors().stream().map(PolicyError::toString).toList();
        assertThat(errors).anySatisfy(e -> assertThat(e).startsWith("a.yaml:25:").contains("spec.rollout.steps[2].weight"));
        assertThat(errors).anySatisfy(e -> assertThat(e).contains("spec.rollout.analysis.rules.ttftP99")
                .contains("a factor of the baseline, like 1.3x"));
        assertThat(errors).anySatisfy(e -> assertThat(e).contains("spec.rollout.analysis.rules.errorRate")
                .contains("like +1%"));
    }

    @Test
    void decreasingSteps_andTheCanaryAsBaseline_areRefused() {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", BASE + """
                  rollout: {baseline: v2, canary: v2, steps: [{weight: 50}, {weight: 20}]}
                """));
        LoadResult unknown = PolicyLoader.load(Map.of("a.yaml", BASE + """
                  rollout: {baseline: v1, canary: v3, steps: [{weight: 50}]}
                """));

        List<String> errors = result.errors().stream().map(PolicyError::toString).toList();
        assertThat(errors).anySatisfy(e -> assertThat(e).contains("spec.rollout.steps[1].weight")
                .contains("weight 20 after 50 (expected: steps of increasing weight)"));
        assertThat(errors).anySatisfy(e -> assertThat(e).contains("the canary is the baseline"));
        assertThat(unknown.errors()).extracting(PolicyError::toString).anySatisfy(e -> assertThat(e).startsWith("a.yaml:22:35:")
                .contains("spec.rollout.canary").contains("unknown version 'v3' (versions: v1, v2)"));
    }

    @Test
    void aRolloutWithoutTheFilter_isRefused() {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", BASE.substring(BASE.indexOf("---") + 4) + """
                  rollout: {baseline: v1, canary: v2, steps: [{weight: 20}]}
                """));

        assertThat(result.errors()).extracting(PolicyError::toString)
                .anySatisfy(e -> assertThat(e).contains("rollout needs the ai-filter"));
    }
}
