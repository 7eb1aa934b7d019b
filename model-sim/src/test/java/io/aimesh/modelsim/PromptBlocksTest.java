package io.aimesh.modelsim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PromptBlocksTest {

    @Test
    void keys_coverFullBlocksOnly_andAPrefixHasThePrefixsKeys() {
        String text = "word ".repeat(100); // 500 characters: 7 blocks of 64, 52 over
        PromptBlocks whole = PromptBlocks.builder("m", 16).text(text).build();
        PromptBlocks longer = PromptBlocks.builder("m", 16).text(text).text("more text, one block's worth or so, well past the end ....").build();

        assertThat(whole.count()).isEqualTo(7);
        assertThat(longer.count()).isEqualTo(8);
        for (int i = 0; i < whole.count(); i++) {
            assertThat(longer.key(i)).isEqualTo(whole.key(i));
        }
        assertThat(PromptBlocks.builder("m", 16).text("short").build()).isEqualTo(PromptBlocks.NONE);
    }

    @Test
    void aKeyDependsOnEverythingBeforeIt_theModel_andTheRoles() {
        String text = "x".repeat(128);
        PromptBlocks base = PromptBlocks.builder("m", 16).text(text).build();

        assertThat(PromptBlocks.builder("m", 16).text("y" + text.substring(1)).build().key(1)).isNotEqualTo(base.key(1));
        assertThat(PromptBlocks.builder("lora-a", 16).text(text).build().key(0)).isNotEqualTo(base.key(0));
        assertThat(PromptBlocks.builder("m", 16).message("user").text(text).build())
                .isNotEqualTo(PromptBlocks.builder("m", 16).message("system").text(text).build());
    }

    @Test
    void aTokenIdCountsAsOneToken() {
        PromptBlocks.Builder ids = PromptBlocks.builder("m", 16);
        for (int i = 0; i < 16; i++) {
            ids.tokenId(1000 + i);
        }

        assertThat(ids.build().count()).isEqualTo(1);
    }
}
