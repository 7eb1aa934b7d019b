package io.aimesh.bench.body;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import io.aimesh.bench.AbstractMicrobenchmark;
import io.aimesh.filter.body.BodyParseResult;
import io.aimesh.filter.body.ParsedRequest;
import io.aimesh.filter.body.RequestBodyParser;
import io.aimesh.filter.body.RequestKind;
import io.aimesh.filter.body.TokenEstimator;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The ai-filter's per-request body work: parsing a chat completion body, and parsing it then
 * counting its prompt tokens, for a short chat (1 KB), a long conversation (16 KB) and a large
 * document pasted into a prompt (220 KB). Each is measured beside the obvious alternative, in the
 * same run:
 * <ul>
 *   <li>{@code parse}: {@link RequestBodyParser#parse} (one streaming pass, UTF-8 validated,
 *       unknown fields skipped), beside {@code parseTree}: Jackson's {@code ObjectMapper.readTree}
 *       and reading the same fields from the tree, with no validation;</li>
 *   <li>{@code parseAndEstimate}: the parse then {@link TokenEstimator#promptTokens} (exact up to
 *       32 Ki characters, sampled beyond), beside {@code parseAndCountWhole}: the parse then
 *       jtokkit's {@code countTokensOrdinary} on every whole text plus the same chat overhead.</li>
 * </ul>
 * Bodies are built once from a fixed seed: English-like prose with Zipf-distributed words,
 * punctuation, numbers and paragraphs, in alternating user and assistant messages after a system
 * prompt; the 220 KB body's last message is one long document. Unknown fields a real client sends
 * ({@code temperature}, {@code tools}, ...) are included, since skipping them is part of the cost.
 *
 * <p>Run from the repository root:
 * <pre>
 * mvn -B -o -q -pl benchmarks -am package -DskipTests
 * java -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*' \
 *     org.openjdk.jmh.Main BodyParsingBenchmark
 * </pre>
 * A quick look: append {@code -f 1 -wi 3 -i 5 -r 1s}; allocation per operation: {@code -prof gc}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class BodyParsingBenchmark extends AbstractMicrobenchmark {
    private static final long SEED = 42;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final RequestBodyParser PARSER = RequestBodyParser.of(1 << 20);

    /** The body size in bytes: a chat turn, a long conversation, a pasted document. */
    @Param({"1024", "16384", "225280"})
    public int bodyBytes;

    private byte[] body;

    /** The encoding to count with; a separate state, so that the parse-only benchmarks do not run per encoding. */
    @State(Scope.Benchmark)
    public static class Counting {
        @Param({"cl100k_base", "o200k_base"})
        public String encoding;

        /**
         * The estimator's cache of window counts: {@code on} measures a body whose text was all seen
         * before (every op repeats it), {@code off} one never seen; a chat turn lies between them.
         * Set as the system property before the first estimator loads, so it needs a fork (the default).
         */
        @Param({"on", "off"})
        public String cache;

        TokenEstimator estimator;
        Encoding whole;

        @Setup
        public void setUp() {
            if (cache.equals("off")) {
                System.setProperty("aimesh.tokenCountCacheChars", "0");
            }
            estimator = TokenEstimator.of(encoding);
            whole = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.fromName(encoding).orElseThrow());
        }
    }

    @Setup
    public void setUp() {
        body = ChatBodies.of(new SplittableRandom(SEED), bodyBytes);
        if (!(PARSER.parse(RequestKind.CHAT, "application/json", body) instanceof ParsedRequest)) {
            throw new IllegalStateException("the generated body does not parse");
        }
    }

    @Benchmark
    public BodyParseResult parse() {
        return PARSER.parse(RequestKind.CHAT, "application/json", body);
    }

    @Benchmark
    public long parseTree() throws IOException {
        JsonNode root = MAPPER.readTree(body);
        long chars = root.path("model").asText().length() + (root.path("stream").asBoolean() ? 1 : 0)
                + root.path("max_tokens").asLong();
        for (JsonNode message : root.path("messages")) {
            chars += message.path("role").asText().length() + message.path("content").asText().length();
        }
        return chars;
    }

    @Benchmark
    public long parseAndEstimate(Counting counting) {
        return counting.estimator.promptTokens((ParsedRequest) PARSER.parse(RequestKind.CHAT, "application/json", body));
    }

    @Benchmark
    public long parseAndCountWhole(Counting counting) {
        ParsedRequest request = (ParsedRequest) PARSER.parse(RequestKind.CHAT, "application/json", body);
        long tokens = 3L * request.messageCount() + request.nameCount() + 3;
        for (String text : request.promptTexts()) {
            tokens += counting.whole.countTokensOrdinary(text);
        }
        return tokens;
    }

    /** Chat completion bodies of English-like prose. */
    static final class ChatBodies {
        private static final String[] WORDS = ("the of and to a in is that it was for on are as with his they at be this "
                + "from have or by one had not but what all were when we there can an your which their said if do will "
                + "each about how up out them then she many some so these would other into has more her two like him see "
                + "time could no make than first been its who now people my made over did down only way find use may "
                + "water long little very after words called just where most know get through back much before go good "
                + "new write our used me man too any day same right look think also around another came come work three "
                + "word must because does part even place well such here take why things help put years different away "
                + "again off went old number great tell men say small every found still between name should home big give "
                + "air line set own under read last never us left end along while might next sound below saw something "
                + "thought both few those always looked show large often together asked house don't world going want school "
                + "important until form food keep children feet land side without boy once animals life enough took sometimes "
                + "four head above kind began almost live page got earth need far hand high year mother light parts country "
                + "father let night following picture being study second eyes soon times story boys since white days ever "
                + "paper hard near sentence better best across during today others however sure means knew it's try told "
                + "young miles sun ways thing whole hear example heard several change answer room sea against top turned "
                + "learn point city play toward five using himself usually Kubernetes latency throughput tokenizer").split(" ");

        private ChatBodies() {
        }

        /** A chat body of about {@code bytes} bytes (within a few percent). */
        static byte[] of(SplittableRandom random, int bytes) {
            StringBuilder json = new StringBuilder(bytes + 1024);
            json.append("{\"model\":\"llama-3-8b-instruct\",\"temperature\":0.7,\"top_p\":0.95,\"max_tokens\":512,")
                    .append("\"stream\":true,\"user\":\"tenant-a/user-17\",")
                    .append("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"search\",\"description\":")
                    .append("\"Search the knowledge base\",\"parameters\":{\"type\":\"object\",\"properties\":")
                    .append("{\"query\":{\"type\":\"string\"}},\"required\":[\"query\"]}}}],\"messages\":[")
                    .append("{\"role\":\"system\",\"content\":\"You are a helpful assistant. Answer briefly and cite sources.\"}");
            List<String> turns = new ArrayList<>();
            int budget = bytes - json.length() - 40;
            // Turns of 200 to 2,000 characters; a body over 64 KB ends with one long document.
            int documentChars = bytes > 65_536 ? budget * 9 / 10 : 0;
            int turnChars = budget - documentChars;
            while (turnChars > 60) {
                int length = Math.min(turnChars - 30, 200 + random.nextInt(1_800));
                turns.add(prose(random, Math.max(10, length)));
                turnChars -= length + 30;
            }
            if (documentChars > 0) {
                turns.add("Summarize this document:\\n\\n" + prose(random, documentChars));
            }
            for (int i = 0; i < turns.size(); i++) {
                boolean user = i % 2 == 0 || i == turns.size() - 1;
                json.append(",{\"role\":\"").append(user ? "user" : "assistant").append("\",\"content\":\"")
                        .append(turns.get(i)).append("\"}");
            }
            return json.append("]}").toString().getBytes(UTF_8);
        }

        /** {@code chars} characters of prose, JSON-escaped paragraph breaks included. */
        private static String prose(SplittableRandom random, int chars) {
            StringBuilder text = new StringBuilder(chars + 16);
            boolean capital = true;
            while (text.length() < chars) {
                // Zipf-like: low indices (frequent words) far more often than high ones.
                double u = random.nextDouble();
                String word = WORDS[(int) (WORDS.length * u * u * u)];
                text.append(capital ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word);
                capital = false;
                int r = random.nextInt(100);
                if (r < 7) {
                    text.append(". ");
                    capital = true;
                } else if (r < 11) {
                    text.append(", ");
                } else if (r < 12) {
                    text.append(' ').append(random.nextInt(2_000)).append(' ');
                } else if (r < 13) {
                    text.append(".\\n\\n");
                    capital = true;
                } else {
                    text.append(' ');
                }
            }
            text.setLength(chars);
            // A cut may leave a lone backslash of an escape; the JSON must stay valid.
            while (text.length() > 0 && text.charAt(text.length() - 1) == '\\') {
                text.setLength(text.length() - 1);
            }
            return text.toString();
        }
    }
}
