package io.aimesh.cli;

import io.aimesh.policy.LoadResult;
import io.aimesh.policy.PolicyError;
import io.aimesh.policy.PolicyLoader;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Check a policy directory. Prints every error as file:line:column: path: message and exits 1, "
                + "or prints a summary and exits 0.")
final class ValidateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "The policy directory (*.yaml, *.yml).")
    Path directory;

    @Override
    public Integer call() throws Exception {
        LoadResult result = PolicyLoader.loadDirectory(directory);
        if (!result.ok()) {
            printErrors(directory, result);
            System.err.println(result.errors().size() + " error(s) in " + directory);
            return 1;
        }
        System.out.println("policies OK: " + result.policies());
        return 0;
    }

    /** Each error of a failed load on standard error, its file named by its path under {@code directory}. */
    static void printErrors(Path directory, LoadResult result) {
        for (PolicyError error : result.errors()) {
            System.err.println(directory.resolve(error.location().file()) + error.toString().substring(error.location().file().length()));
        }
    }
}
