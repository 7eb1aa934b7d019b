package io.aimesh.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The options of the commands that ask the control plane's admin API: where it is, and its token if it needs one. */
final class ControlPlaneAdmin {
    @Option(names = "--admin", defaultValue = "http://127.0.0.1:19000", paramLabel = "URL",
            description = "The control plane's admin address (default: ${DEFAULT-VALUE}).")
    URI url;

    @Option(names = "--admin-token-file", paramLabel = "FILE",
            description = "The control plane's admin token (its --admin-token-file), sent as authorization: Bearer.")
    Path tokenFile;

    /** A request for {@code path}, with the token when there is one. */
    HttpRequest.Builder request(String path) {
        HttpRequest.Builder request = HttpRequest.newBuilder(url.resolve(path)).timeout(Duration.ofSeconds(10));
        if (tokenFile != null) {
            try {
                request.header("authorization", "Bearer " + Files.readString(tokenFile).strip());
            } catch (IOException e) {
                throw new UncheckedIOException("--admin-token-file: cannot read " + tokenFile, e);
            }
        }
        return request;
    }

    /** How a command's messages name it. */
    String describe() {
        return "the control plane's admin API at " + url;
    }
}
