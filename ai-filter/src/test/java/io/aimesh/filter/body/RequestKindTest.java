package io.aimesh.filter.body;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestKindTest {

    @Test
    void ofPath_knowsTheThreeInferenceCalls_withOrWithoutAQuery() {
        assertThat(RequestKind.ofPath("/v1/chat/completions")).contains(RequestKind.CHAT);
        assertThat(RequestKind.ofPath("/v1/completions?api-version=1")).contains(RequestKind.COMPLETION);
        assertThat(RequestKind.ofPath("/v1/embeddings")).contains(RequestKind.EMBEDDING);
    }

    @Test
    void ofPath_isEmptyForOtherPaths() {
        assertThat(RequestKind.ofPath("/v1/models")).isEmpty();
        assertThat(RequestKind.ofPath("/v1/chat/completions/")).isEmpty();
        assertThat(RequestKind.ofPath("/V1/CHAT/COMPLETIONS")).isEmpty();
        assertThat(RequestKind.ofPath("")).isEmpty();
    }
}
