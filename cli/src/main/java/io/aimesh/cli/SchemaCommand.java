package io.aimesh.cli;

import io.aimesh.policy.PolicyCrds;
import io.aimesh.policy.PolicySchema;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "schema", mixinStandardHelpOptions = true,
        description = "Print the JSON Schema of the policy kinds, for editors; or write their Kubernetes CRDs.")
final class SchemaCommand implements Callable<Integer> {
    @Option(names = "--crds", paramLabel = "DIR",
            description = "Write one CustomResourceDefinition per kind into DIR (deploy/crds in the source tree) instead.")
    Path crds;

    @Override
    public Integer call() throws IOException {
        if (crds == null) {
            System.out.print(PolicySchema.json());
            return 0;
        }
        Files.createDirectories(crds);
        for (Map.Entry<String, String> file : PolicyCrds.files().entrySet()) {
            Files.writeString(crds.resolve(file.getKey()), file.getValue(), StandardCharsets.UTF_8);
            System.out.println(crds.resolve(file.getKey()));
        }
        return 0;
    }
}
