package io.aimesh.filter.wasm;

import java.io.ByteArrayOutputStream;

/**
 * Caps the linear memory a WebAssembly module may grow to, by rewriting the maximum of the memory
 * its memory section defines: the runtime then refuses a {@code memory.grow} past it, the plugin's
 * allocator fails, and the plugin traps, failing only the request it ran for, where without a cap a
 * plugin could grow towards 4 GiB of this process's heap. The proxy-wasm host offers no limit of its
 * own, so the cap travels in the module.
 *
 * <p>Only the memory section changes; every other byte of the module is kept.
 */
final class ModuleMemory {
    /** WebAssembly's page: 64 KiB. */
    static final long PAGE_BYTES = 65_536;
    private static final int MEMORY_SECTION = 5;

    private ModuleMemory() {
    }

    /**
     * The module with its memory's maximum lowered to {@code maxBytes} (rounded down to pages).
     *
     * @throws IllegalArgumentException when the module is malformed, defines a memory whose initial
     *     size is already over the cap, or defines a kind of memory (shared, 64-bit) this does not cap
     */
    static byte[] capped(byte[] wasm, long maxBytes) {
        long maxPages = maxBytes / PAGE_BYTES;
        if (maxPages < 1) {
            throw new IllegalArgumentException("a memory limit under one 64 KiB page");
        }
        if (wasm.length < 8 || wasm[0] != 0 || wasm[1] != 'a' || wasm[2] != 's' || wasm[3] != 'm') {
            throw new IllegalArgumentException("not a WebAssembly module (no \\0asm header)");
        }
        Reader in = new Reader(wasm, 8);
        while (in.position < wasm.length) {
            int sectionStart = in.position;
            int id = in.u8();
            long size = in.u32();
            int contents = in.position;
            if (size > wasm.length - contents) {
                throw new IllegalArgumentException("section " + id + " at byte " + sectionStart + " runs past the end");
            }
            if (id == MEMORY_SECTION) {
                byte[] section = cappedSection(new Reader(wasm, contents), contents + (int) size, maxPages);
                ByteArrayOutputStream out = new ByteArrayOutputStream(wasm.length + 8);
                out.write(wasm, 0, sectionStart);
                out.write(MEMORY_SECTION);
                writeU32(out, section.length);
                out.write(section, 0, section.length);
                out.write(wasm, contents + (int) size, wasm.length - contents - (int) size);
                return out.toByteArray();
            }
            in.position = contents + (int) size;
        }
        return wasm; // no memory of its own: WasmPlugin refuses a module that imports one
    }

    private static byte[] cappedSection(Reader in, int end, long maxPages) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long count = in.u32();
        writeU32(out, count);
        for (long i = 0; i < count; i++) {
            int flags = in.u8();
            if (flags > 1) {
                throw new IllegalArgumentException("memory " + i + " is shared or 64-bit (limits flags " + flags
                        + "): its size cannot be capped");
            }
            long initial = in.u32();
            long max = flags == 1 ? in.u32() : Long.MAX_VALUE;
            if (initial > maxPages) {
                throw new IllegalArgumentException("the module starts with " + initial * PAGE_BYTES / 1024 + " KiB of memory, more"
                        + " than its limit of " + maxPages * PAGE_BYTES / 1024 + " KiB");
            }
            out.write(1);
            writeU32(out, initial);
            writeU32(out, Math.min(max, maxPages));
        }
        if (in.position != end) {
            throw new IllegalArgumentException("the memory section's size does not match its contents");
        }
        return out.toByteArray();
    }

    private static void writeU32(ByteArrayOutputStream out, long value) {
        long rest = value;
        do {
            int b = (int) (rest & 0x7f);
            rest >>>= 7;
            out.write(rest == 0 ? b : b | 0x80);
        } while (rest != 0);
    }

    private static final class Reader {
        private final byte[] bytes;
        private int position;

        Reader(byte[] bytes, int position) {
            this.bytes = bytes;
            this.position = position;
        }

        int u8() {
            if (position >= bytes.length) {
                throw new IllegalArgumentException("the module ends at byte " + position + " in the middle of a section");
            }
            return bytes[position++] & 0xff;
        }

        /** An unsigned LEB128 of at most 5 bytes, as the format's u32. */
        long u32() {
            long value = 0;
            for (int shift = 0; shift < 35; shift += 7) {
                int b = u8();
                value |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    if (value > 0xffff_ffffL) {
                        throw new IllegalArgumentException("a u32 over 2^32 at byte " + position);
                    }
                    return value;
                }
            }
            throw new IllegalArgumentException("a u32 longer than 5 bytes at byte " + position);
        }
    }
}
