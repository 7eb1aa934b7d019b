package io.aimesh.policy;

import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.ExportSection;
import io.aimesh.filter.api.Sha256;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks a plugin's module as the policies name it: readable, of the given digest, a WebAssembly module with the proxy-wasm ABI. */
public final class WasmModules {
    private WasmModules() {
    }

    /**
     * @param sha256 the digest the policy gives, 64 lower-case hex digits
     * @return what is wrong with the module, or {@code null} when nothing is
     */
    public static String check(Path file, String sha256) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            return "cannot read " + file + " (" + e.getClass().getSimpleName() + ")";
        }
        String actual = Sha256.hex(bytes);
        if (!actual.equals(sha256)) {
            return file + " has digest sha256:" + actual + ", not the sha256:" + sha256 + " the policy gives";
        }
        WasmModule module;
        try {
            module = Parser.parse(bytes);
        } catch (RuntimeException e) {
            return file + " is not a WebAssembly module (" + e.getMessage() + ")";
        }
        boolean abi = false;
        boolean contexts = false;
        ExportSection exports = module.exportSection();
        for (int i = 0; i < exports.exportCount(); i++) {
            String name = exports.getExport(i).name();
            abi |= name.startsWith("proxy_abi_version_");
            contexts |= name.equals("proxy_on_context_create");
        }
        return abi && contexts ? null
                : file + " does not export the proxy-wasm ABI (expected proxy_abi_version_* and proxy_on_context_create)";
    }

    /**
     * @return what is wrong when the module at {@code file} starts with more memory than
     *     {@code limitBytes} (or imports its memory, which cannot be limited), else {@code null};
     *     call after {@link #check} found the module sound
     */
    public static String initialMemoryOver(Path file, long limitBytes) {
        WasmModule module;
        try {
            module = Parser.parse(Files.readAllBytes(file));
        } catch (IOException | RuntimeException e) {
            return null; // check() reports it
        }
        for (int i = 0; i < module.importSection().importCount(); i++) {
            if (module.importSection().getImport(i).importType() == com.dylibso.chicory.wasm.types.ExternalType.MEMORY) {
                return file + " imports its memory, which cannot be limited; build it to define its own (as Rust, Go and TinyGo do)";
            }
        }
        if (module.memorySection().isEmpty() || module.memorySection().get().memoryCount() == 0) {
            return null;
        }
        long initial = module.memorySection().get().getMemory(0).limits().initialPages() * 65_536L;
        return initial <= limitBytes ? null : file + " starts with " + (initial >> 10) + " KiB of memory, more than the memoryLimit of "
                + (limitBytes >> 20) + "Mi";
    }
}
