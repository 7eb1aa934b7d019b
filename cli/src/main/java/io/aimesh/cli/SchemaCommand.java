package io.aimesh.cli;

import io.aimesh.policy.PolicySchema;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "schema", mixinStandardHelpOptions = true,
        description = "Print the JSON Schema of the policy kinds, for editors.")
final class SchemaCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.print(PolicySchema.json());
        return 0;
    }
}
