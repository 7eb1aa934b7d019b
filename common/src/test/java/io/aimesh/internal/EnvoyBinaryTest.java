package io.aimesh.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EnvoyBinaryTest {
    @Test
    void pinnedVersion_isTheOneInTheRepositorysEnvoyVersionFile() throws Exception {
        String file = Files.readString(Path.of("..", "envoy.version")).trim();

        assertThat(EnvoyBinary.pinnedVersion()).isEqualTo(file).matches("[0-9]+\\.[0-9]+\\.[0-9]+");
    }
}
