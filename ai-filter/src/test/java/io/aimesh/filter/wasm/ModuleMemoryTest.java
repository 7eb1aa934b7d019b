package io.aimesh.filter.wasm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

/**
 * The memory cap written into a module: the maximum is lowered (never raised), every other byte
 * is kept, a module that starts over the cap is refused, and no input, however malformed, makes it
 * throw anything but a clear {@link IllegalArgumentException}. The fuzz target replays its seed
 * corpus in CI; {@code JAZZER_FUZZ=1 mvn -pl ai-filter test -Dtest=ModuleMemoryTest} fuzzes for real.
 */
class ModuleMemoryTest {
    private static final byte[] HEADER = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    /** A type section ((): ()) and a custom section after the memory: bytes that must survive. */
    private static final byte[] TYPES = {0x01, 0x04, 0x01, 0x60, 0x00, 0x00};
    private static final byte[] CUSTOM = {0x00, 0x05, 0x04, 'n', 'o', 't', 'e'};

    private static byte[] module(int initial, Integer max) {
        ByteArrayOutputStream memory = new ByteArrayOutputStream();
        memory.write(1);
        memory.write(max == null ? 0 : 1);
        leb(memory, initial);
        if (max != null) {
            leb(memory, max);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(HEADER);
        out.writeBytes(TYPES);
        out.write(5);
        leb(out, memory.size());
        out.writeBytes(memory.toByteArray());
        out.writeBytes(CUSTOM);
        return out.toByteArray();
    }

    private static void leb(ByteArrayOutputStream out, long value) {
        do {
            int b = (int) (value & 0x7f);
            value >>>= 7;
            out.write(value == 0 ? b : b | 0x80);
        } while (value != 0);
    }

    private static MemoryLimits limits(byte[] wasm) {
        WasmModule module = Parser.parse(wasm);
        return module.memorySection().orElseThrow().getMemory(0).limits();
    }

    @Test
    void aMemoryWithoutMaximum_getsTheCap_andEveryOtherSectionIsKept() {
        byte[] capped = ModuleMemory.capped(module(17, null), 64L << 20);

        assertThat(limits(capped).initialPages()).isEqualTo(17);
        assertThat(limits(capped).maximumPages()).isEqualTo(1024);
        assertThat(java.util.Arrays.copyOfRange(capped, 8, 8 + TYPES.length)).isEqualTo(TYPES);
        assertThat(java.util.Arrays.copyOfRange(capped, capped.length - CUSTOM.length, capped.length)).isEqualTo(CUSTOM);
    }

    @Test
    void aLowerMaximumOfTheModulesOwn_stands() {
        assertThat(limits(ModuleMemory.capped(module(2, 40), 64L << 20)).maximumPages()).isEqualTo(40);
        assertThat(limits(ModuleMemory.capped(module(2, 40_000), 64L << 20)).maximumPages()).isEqualTo(1024);
    }

    @Test
    void aModuleThatStartsOverTheCap_isRefused_andOneWithoutMemoryIsKeptAsItIs() {
        assertThatThrownBy(() -> ModuleMemory.capped(module(32, null), 1L << 20)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the module starts with 2048 KiB of memory, more than its limit of 1024 KiB");
        byte[] none = java.util.Arrays.copyOf(HEADER, HEADER.length);
        assertThat(ModuleMemory.capped(none, 1L << 20)).isSameAs(none);
    }

    @Test
    void malformedModules_getAClearError() {
        byte[] whole = module(2, null);
        assertThatThrownBy(() -> ModuleMemory.capped("not wasm".getBytes(java.nio.charset.StandardCharsets.UTF_8), 1L << 20))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no \\0asm header");
        assertThatThrownBy(() -> ModuleMemory.capped(java.util.Arrays.copyOf(whole, 18), 1L << 20))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("runs past the end");
    }

    @FuzzTest(maxDuration = "10s")
    void anyInput_isCappedOrRefusedClearly(byte[] input) {
        byte[] wasm = new byte[HEADER.length + input.length];
        System.arraycopy(HEADER, 0, wasm, 0, HEADER.length);
        System.arraycopy(input, 0, wasm, HEADER.length, input.length);
        byte[] capped;
        try {
            capped = ModuleMemory.capped(wasm, 1L << 20);
        } catch (IllegalArgumentException refused) {
            assertThat(refused.getMessage()).isNotBlank();
            return;
        }
        WasmModule module;
        try {
            module = Parser.parse(capped);
        } catch (RuntimeException notAModule) {
            return; // malformed elsewhere: the runtime's parser says so at load
        }
        module.memorySection().ifPresent(memories -> {
            for (int i = 0; i < memories.memoryCount(); i++) {
                assertThat(memories.getMemory(i).limits().maximumPages()).isLessThanOrEqualTo(16);
            }
        });
    }
}
