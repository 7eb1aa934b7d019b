package io.aimesh.modelsim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ModelSimConfigTest {

    @Test
    void builder_defaultsToDocumentedValues() {
        ModelSimConfig config = ModelSimConfig.builder().build();

        assertThat(config).isEqualTo(
                new ModelSimConfig("127.0.0.1", 0, "sim-model", "v1", 1.0, 16, 16_384, 1, 0.0, 0, null, 16, true, List.of(), 1, 20.0));
    }

    @Test
    void builder_setsEveryField() {
        ModelSimConfig config = ModelSimConfig.builder().host("0.0.0.0").port(8000).model("llama").version("v2")
                .speed(2.5).maxSeqs(4).kvTokens(1000).seed(7).failRate(0.25).extraLatencyMs(30)
                .instanceName("gpu-a").blockSize(32).prefixCaching(false).loraAdapters(List.of("sql-lora")).maxLoras(3)
                .loraLoadMillis(5).build();

        assertThat(config).isEqualTo(
                new ModelSimConfig("0.0.0.0", 8000, "llama", "v2", 2.5, 4, 1000, 7, 0.25, 30, "gpu-a", 32, false, List.of("sql-lora"), 3, 5.0));
    }

    @Test
    void constructor_rejectsOutOfRangeValuesNamingFieldAndExpectation() {
        assertThatThrownBy(() -> ModelSimConfig.builder().speed(-1.0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessage("speed: -1.0 (expected: > 0)");
        assertThatThrownBy(() -> ModelSimConfig.builder().speed(Double.NaN).build())
                .hasMessage("speed: NaN (expected: > 0)");
        assertThatThrownBy(() -> ModelSimConfig.builder().port(65_536).build())
                .hasMessage("port: 65536 (expected: 0..65535)");
        assertThatThrownBy(() -> ModelSimConfig.builder().maxSeqs(0).build())
                .hasMessage("maxSeqs: 0 (expected: >= 1)");
        assertThatThrownBy(() -> ModelSimConfig.builder().kvTokens(1).build())
                .hasMessage("kvTokens: 1 (expected: >= 2)");
        assertThatThrownBy(() -> ModelSimConfig.builder().failRate(1.5).build())
                .hasMessage("failRate: 1.5 (expected: 0..1)");
        assertThatThrownBy(() -> ModelSimConfig.builder().extraLatencyMs(-5).build())
                .hasMessage("extraLatencyMs: -5 (expected: >= 0)");
        assertThatThrownBy(() -> ModelSimConfig.builder().model(" ").build())
                .hasMessage("model: \" \" (expected: non-blank)");
    }

    @Test
    void constructor_rejectsNullsAndHeaderBreakingNames() {
        assertThatThrownBy(() -> ModelSimConfig.builder().host(null).build())
                .isInstanceOf(NullPointerException.class).hasMessage("host");
        assertThatThrownBy(() -> ModelSimConfig.builder().instanceName("a\r\nx-evil: 1").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("instanceName: control character at index 1");
    }
}
