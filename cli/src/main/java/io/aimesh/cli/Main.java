package io.aimesh.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code aimesh} launcher: one command with a subcommand per role. */
@Command(name = "aimesh", mixinStandardHelpOptions = true, version = "aimesh 0.1.0",
        description = "AI-aware traffic management for Envoy: policies, xDS control plane, model simulator.",
        subcommands = {ValidateCommand.class, SchemaCommand.class, ControlPlaneCommand.class, FilterCommand.class, EnvoyBootstrapCommand.class,
                ModelSimCommand.class, DemoCommand.class, IstioCommand.class, RolloutCommand.class, SpendCommand.class, StatusCommand.class, ExplainCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    public static void main(String[] args) {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT.%1$tL %4$-7s %3$s: %5$s%6$s%n");
        }
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
