package io.aimesh.picker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EndpointTest {

    @Test
    void authority_joinsHostAndPort() {
        assertThat(new Endpoint("10.1.2.3", 8000).authority()).isEqualTo("10.1.2.3:8000");
    }

    @Test
    void authority_bracketsAnIpv6Host() {
        assertThat(new Endpoint("fd00::1", 8000).authority()).isEqualTo("[fd00::1]:8000");
        assertThat(new Endpoint("::1", 80)).hasToString("[::1]:80");
    }

    @Test
    void constructor_rejectsHostNamesAndMalformedAddresses() {
        for (String host : new String[] {"model-0.pool.svc", "localhost", "256.1.1.1", "1.2.3", "01.2.3.4", "", "fd00:::1:",
            "[::1]", "1:2"}) {
            assertThatThrownBy(() -> new Endpoint(host, 8000)).as(host)
                    .hasMessage("host: \"" + host + "\" (expected: an IPv4 or IPv6 address)");
        }
    }

    @Test
    void constructor_rejectsPortsOutOfRange() {
        assertThatThrownBy(() -> new Endpoint("10.0.0.1", 0)).hasMessage("port: 0 (expected: 1 to 65535)");
        assertThatThrownBy(() -> new Endpoint("10.0.0.1", 65_536)).hasMessage("port: 65536 (expected: 1 to 65535)");
    }
}
