package io.aimesh.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SecretsTest {
    @Test
    void redact_masksUserInfo_keepsHostAndPort() {
        assertThat(Secrets.redact("global limits: bad URI rediss://default:hunter2@10.0.0.5:6380/0"))
                .isEqualTo("global limits: bad URI rediss://****@10.0.0.5:6380/0");
        assertThat(Secrets.redact("redis://:p%40ss@redis.internal")).isEqualTo("redis://****@redis.internal");
    }

    @Test
    void redact_masksEveryUriInAJsonDocument_andPasswordParameters() {
        String json = "{\"redis\": \"redis://u:secret@a:1\", \"other\": \"redis://v:secret2@b:2?password=third&db=1\"}";

        assertThat(Secrets.redact(json)).doesNotContain("secret", "third")
                .isEqualTo("{\"redis\": \"redis://****@a:1\", \"other\": \"redis://****@b:2?password=****&db=1\"}");
    }

    @Test
    void redact_leavesTextWithoutCredentialsAlone() {
        assertThat(Secrets.redact("redis://10.0.0.5:6379 is unreachable")).isEqualTo("redis://10.0.0.5:6379 is unreachable");
        assertThat(Secrets.redact("user@example.com wrote")).isEqualTo("user@example.com wrote");
        assertThat(Secrets.redact(null)).isNull();
    }
}
