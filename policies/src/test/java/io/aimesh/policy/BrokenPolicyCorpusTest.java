package io.aimesh.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Loads each file of {@code src/test/resources/broken/}, one mistake a user could make, named for
 * it, and checks the exact errors a user would see. Each file begins with the errors it must
 * produce, one {@code # expect: file:line:column: path: message} comment per error in the order
 * reported; the lines count, so a new case is easiest written first and its expectations added
 * at the top after reading the actual messages in the failure.
 */
class BrokenPolicyCorpusTest {
    private static final String EXPECT = "# expect: ";
    private static final String POOL = """
            apiVersion: aimesh.io/v1alpha1
            kind: InferencePool
            metadata:
              name: llama-v1
            spec:
              endpoints:
                - 10.0.0.1:8000
            """;

    static Stream<String> corpus() throws IOException, URISyntaxException {
        try (Stream<Path> files = Files.list(corpusDir())) {
            return files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".yaml")).sorted().toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void load_reportsExactlyTheExpectedErrors(String file) throws IOException, URISyntaxException {
        String text = Files.readString(corpusDir().resolve(file));
        List<String> expected = text.lines()
                .takeWhile(line -> line.startsWith("#"))
                .filter(line -> line.startsWith(EXPECT))
                .map(line -> line.substring(EXPECT.length()))
                .toList();
        assertThat(expected).as("'%s' lines at the top of %s", EXPECT, file).isNotEmpty();

        LoadResult result = PolicyLoader.load(Map.of(file, text));

        assertThat(result.policies()).isNull();
        assertThat(result.errors()).extracting(PolicyError::toString).containsExactlyElementsOf(expected);
    }

    @Test
    void load_reportsDuplicateNameAcrossFilesAtTheSecond() {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("a.yaml", POOL);
        files.put("b.yaml", POOL.replace("10.0.0.1", "10.0.0.2"));

        LoadResult result = PolicyLoader.load(files);

        assertThat(result.errors()).extracting(PolicyError::toString).containsExactly(
                "b.yaml:4:9: InferencePool/llama-v1 metadata.name: duplicate InferencePool name 'llama-v1'"
                        + " (first defined at a.yaml:4:9)");
    }

    @Test
    void loadDirectory_pointsAtTheFirstByteThatIsNotUtf8(@TempDir Path dir) throws IOException {
        byte[] latin1 = POOL.replace("  name: llama-v1", "  name: llama-v1\n  labels: {owner: 'Jos\u00e9'}")
                .getBytes(StandardCharsets.ISO_8859_1);
        Files.write(dir.resolve("pools.yaml"), latin1);

        LoadResult result = PolicyLoader.loadDirectory(dir);

        assertThat(result.policies()).isNull();
        assertThat(result.errors()).extracting(PolicyError::toString).containsExactly(
                "pools.yaml:5:23: file is not valid UTF-8 (byte 0xE9); save it as UTF-8");
    }

    @Test
    void loadDirectory_withOneBrokenFileAmongValidOnes_returnsOnlyErrors(@TempDir Path dir) throws IOException {
        try (Stream<Path> examples = Files.list(Path.of("examples"))) {
            for (Path example : examples.toList()) {
                Files.copy(example, dir.resolve(example.getFileName()));
            }
        }
        assertThat(PolicyLoader.loadDirectory(dir).ok()).as("the examples alone load").isTrue();
        Files.writeString(dir.resolve("canary.yaml"), """
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata:
                  name: mistral
                spec:
                  model: mistral-7b-instruct
                  versions:
                    - {name: v1, pool: llama-3-8b-v1, weight: 100}
                  timeout: 10 minutes
                """);

        LoadResult result = PolicyLoader.loadDirectory(dir);

        assertThat(result.ok()).isFalse();
        assertThat(result.policies()).isNull();
        assertThat(result.errors()).extracting(PolicyError::toString).containsExactly(
                "canary.yaml:9:12: ModelRoute/mistral spec.timeout: '10 minutes' is not a duration such as 500ms, 2s, 1m, 1h or 1d");
    }

    private static Path corpusDir() throws URISyntaxException {
        return Path.of(BrokenPolicyCorpusTest.class.getResource("/broken").toURI());
    }
}
