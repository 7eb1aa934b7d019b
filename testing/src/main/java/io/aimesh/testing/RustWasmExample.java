package io.aimesh.testing;

import io.aimesh.internal.ProjectHome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * The proxy-wasm Rust SDK's own example plugins, as its crate publishes them on crates.io
 * ({@code proxy-wasm} 0.2.0 ships {@code examples/}): plugins no one in this project wrote, built at
 * test time with cargo for {@code wasm32-unknown-unknown} into {@code .aimesh/tools/} and never
 * committed. The build (integration-tests/src/test/rust/proxy-wasm-sdk-examples) vendors the crate
 * at its locked version and compiles its examples against it; the target is added with rustup when
 * missing. All three are built at once, under one lock; a build that cannot run is reported loudly
 * and {@link #locate()} is empty, as {@link GoTool}'s.
 */
public enum RustWasmExample {
    /** Answers {@code GET /hello} itself (200, {@code Hello, World!}); logs the headers it sees. */
    HTTP_HEADERS("http_headers"),
    /** Replaces a response body that contains "secret" with a note of its length; drops content-length. */
    HTTP_BODY("http_body"),
    /** Adds {@code custom-header} to each response, its value the plugin configuration. */
    HTTP_CONFIG("http_config");

    private static final String SOURCES = "integration-tests/src/test/rust/proxy-wasm-sdk-examples";
    private static final String TARGET = "wasm32-unknown-unknown";
    private static final long BUILD_MINUTES = 15;
    private static final String SKIPPED = "SKIPPED: the proxy-wasm Rust SDK examples could not be built here: ";
    private static volatile String failure;

    private final String example;

    RustWasmExample(String example) {
        this.example = example;
    }

    /**
     * The example's {@code .wasm}, built first (with the others) when it is missing.
     *
     * @return empty when it cannot be built; the reason is printed and kept for {@link #skipMessage()}
     */
    public Optional<Path> locate() {
        synchronized (RustWasmExample.class) {
            Path home;
            String version;
            try {
                home = ProjectHome.find();
                version = BuildProcess.sourceDigest(home.resolve(SOURCES), "Cargo\\.(toml|lock)");
            } catch (IOException | RuntimeException e) {
                return fail(e.getMessage());
            }
            Path dir = ProjectHome.cache().resolve("tools").resolve("proxy-wasm-rust-examples-src-" + version);
            Path built = dir.resolve(example + ".wasm");
            if (Files.isRegularFile(built)) {
                return Optional.of(built);
            }
            if (failure != null) {
                return Optional.empty();
            }
            // HTTP_CONFIG's file, moved in last, marks the build done
            String problem = BuildProcess.once(dir, dir.resolve(HTTP_CONFIG.example + ".wasm"), d -> build(home.resolve(SOURCES), d));
            return problem == null && Files.isRegularFile(built) ? Optional.of(built)
                    : fail(problem == null ? "the build left no " + built : problem);
        }
    }

    /** Why {@link #locate()} is empty, for the skip; {@code null} when it is not. */
    public String skipMessage() {
        return failure == null ? null : SKIPPED + failure;
    }

    private static void build(Path sources, Path dir) throws IOException, InterruptedException {
        System.err.println("aimesh-testing: building the proxy-wasm Rust SDK examples into " + dir);
        long started = System.nanoTime();
        Path work = dir.resolve("build");
        Files.createDirectories(work.resolve("src"));
        for (String file : List.of("Cargo.toml", "Cargo.lock", "src/lib.rs")) {
            Files.copy(sources.resolve(file), work.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        BuildProcess.run(new ProcessBuilder("rustup", "target", "add", TARGET).directory(work.toFile()), dir, BUILD_MINUTES);
        // The crate's sources at the locked version; sdk/ is where Cargo.toml finds the examples.
        BuildProcess.run(new ProcessBuilder("cargo", "vendor", "--locked", "vendor").directory(work.toFile()), dir, BUILD_MINUTES);
        Path sdk = work.resolve("sdk");
        if (!Files.exists(sdk)) {
            Files.createSymbolicLink(sdk, work.resolve("vendor/proxy-wasm"));
        }
        BuildProcess.run(new ProcessBuilder("cargo", "build", "--release", "--locked", "--offline", "--target", TARGET,
                "--examples", "--config", "source.crates-io.replace-with=\"vendored-sources\"",
                "--config", "source.vendored-sources.directory=\"vendor\"").directory(work.toFile()), dir, BUILD_MINUTES);
        Path out = work.resolve("target").resolve(TARGET).resolve("release/examples");
        for (RustWasmExample plugin : values()) {
            Files.copy(out.resolve(plugin.example + ".wasm"), dir.resolve(plugin.example + ".wasm.tmp"),
                    StandardCopyOption.REPLACE_EXISTING);
        }
        for (RustWasmExample plugin : values()) { // HTTP_CONFIG last: its file marks the build done
            Files.move(dir.resolve(plugin.example + ".wasm.tmp"), dir.resolve(plugin.example + ".wasm"),
                    StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        System.err.printf("aimesh-testing: built the proxy-wasm Rust SDK examples in %d s%n",
                (System.nanoTime() - started) / 1_000_000_000);
    }

    private static Optional<Path> fail(String reason) {
        failure = reason == null ? "unknown error" : reason;
        System.err.println("\n!!!!!!!! " + SKIPPED + failure + " !!!!!!!!\n");
        return Optional.empty();
    }
}
