package io.aimesh.cli;

import java.net.URI;
import picocli.CommandLine.Option;

/** The option of the commands that ask the control plane's admin API: where it is. */
final class ControlPlaneAdmin {
    @Option(names = "--admin", defaultValue = "http://127.0.0.1:19000", paramLabel = "URL",
            description = "The control plane's admin address (default: ${DEFAULT-VALUE}).")
    URI url;

    /** How a command's messages name it. */
    String describe() {
        return "the control plane's admin API at " + url;
    }
}
