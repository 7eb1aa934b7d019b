package io.aimesh.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Map;

/**
 * Fuzzes the policy loader: whatever the bytes, it returns policies or positioned errors and
 * never throws. In CI this replays the seed corpus (the examples and the broken corpus);
 * {@code JAZZER_FUZZ=1 mvn -pl policies test -Dtest=PolicyLoaderFuzzTest} fuzzes for real.
 */
class PolicyLoaderFuzzTest {

    @FuzzTest(maxDuration = "20s")
    void load_neverThrows(byte[] input) {
        String text = new String(input, java.nio.charset.StandardCharsets.UTF_8);

        LoadResult result = PolicyLoader.load(Map.of("fuzz.yaml", text));

        assertThat(result.ok() || !result.errors().isEmpty()).isTrue();
        for (PolicyError error : result.errors()) {
            assertThat(error.location().file()).isEqualTo("fuzz.yaml");
            assertThat(error.message()).isNotBlank();
        }
    }
}
