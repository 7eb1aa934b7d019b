package io.aimesh.filter.extproc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** OpenAI's duration spelling in x-ratelimit-reset-*, and retry-after in whole seconds rounded up. */
class HeaderFormatTest {
    @Test
    void durations_areWrittenAsOpenAiWritesThem() {
        assertThat(HeaderFormat.duration(-5)).isEqualTo("0ms");
        assertThat(HeaderFormat.duration(20)).isEqualTo("20ms");
        assertThat(HeaderFormat.duration(999)).isEqualTo("999ms");
        assertThat(HeaderFormat.duration(1_000)).isEqualTo("1s");
        assertThat(HeaderFormat.duration(1_500)).isEqualTo("1.5s");
        assertThat(HeaderFormat.duration(1_050)).isEqualTo("1.05s");
        assertThat(HeaderFormat.duration(1_005)).isEqualTo("1.005s");
        assertThat(HeaderFormat.duration(59_999)).isEqualTo("59.999s");
        assertThat(HeaderFormat.duration(360_000)).isEqualTo("6m0s");
        assertThat(HeaderFormat.duration(61_020)).isEqualTo("1m1.02s");
        assertThat(HeaderFormat.duration(3_723_400)).isEqualTo("1h2m3.4s");
    }

    @Test
    void retryAfter_isWholeSecondsRoundedUp_atLeastOne() {
        assertThat(HeaderFormat.retryAfterSeconds(0)).isEqualTo("1");
        assertThat(HeaderFormat.retryAfterSeconds(1_001)).isEqualTo("2");
        assertThat(HeaderFormat.retryAfterSeconds(3_000)).isEqualTo("3");
    }
}
