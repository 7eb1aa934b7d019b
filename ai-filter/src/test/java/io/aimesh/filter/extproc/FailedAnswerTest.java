package io.aimesh.filter.extproc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/** What an answer is charged when it fails, or succeeds without usage. */
class FailedAnswerTest {
    private static final ByteString NONE = ByteString.EMPTY;

    @Test
    void usage_isChargedWhateverTheStatus() {
        assertThat(FailedAnswer.of(200, true, 0, NONE)).isEqualTo(FailedAnswer.USAGE);
        assertThat(FailedAnswer.of(500, true, 3, text("{\"usage\":{}}"))).isEqualTo(FailedAnswer.USAGE);
    }

    @Test
    void aStreamThatEndedEarly_chargesWhatWasStreamed() {
        assertThat(FailedAnswer.of(200, false, 12, NONE)).isEqualTo(FailedAnswer.STREAMED);
    }

    @Test
    void aModelServersRefusal_chargesTheInput() {
        assertThat(FailedAnswer.of(400, false, 0, text("{\"error\":{}}"))).isEqualTo(FailedAnswer.INPUT);
        assertThat(FailedAnswer.of(429, false, 0, NONE)).isEqualTo(FailedAnswer.INPUT);
    }

    @Test
    void envoysUpstreamTimeout_keepsTheWholeReservation_regressionForFreeTimedOutRequests() {
        assertThat(FailedAnswer.of(504, false, 0, text("upstream request timeout"))).isEqualTo(FailedAnswer.RESERVATION);
        assertThat(FailedAnswer.of(503, false, 0, text("upstream connect error or disconnect/reset before headers. "
                + "reset reason: connection termination"))).isEqualTo(FailedAnswer.RESERVATION);
        assertThat(FailedAnswer.of(500, false, 0, text("{\"error\":\"oom\"}"))).isEqualTo(FailedAnswer.RESERVATION);
    }

    @Test
    void envoysReplyForARequestNoUpstreamCarried_chargesNothing() {
        assertThat(FailedAnswer.of(503, false, 0, text("no healthy upstream"))).isEqualTo(FailedAnswer.NOTHING);
        assertThat(FailedAnswer.of(503, false, 0, text("upstream connect error or disconnect/reset before headers. "
                + "reset reason: remote connection failure, transport failure reason: delayed connect error: 111")))
                .isEqualTo(FailedAnswer.NOTHING);
        assertThat(FailedAnswer.of(503, false, 0, text("upstream connect error or disconnect/reset before headers. "
                + "reset reason: overflow"))).isEqualTo(FailedAnswer.NOTHING);
    }

    @Test
    void aSuccessWithoutUsageOrDeltas_keepsTheReservation() {
        assertThat(FailedAnswer.of(200, false, 0, NONE)).isEqualTo(FailedAnswer.RESERVATION);
    }

    private static ByteString text(String body) {
        return ByteString.copyFromUtf8(body);
    }
}
