package io.aimesh.filter.body;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts the prompt tokens of a request with the BPE encoding its model uses (jtokkit's port of
 * tiktoken), before the backend does, so token limits can be charged up front.
 *
 * <h2>Chat overhead</h2>
 * OpenAI wraps each chat message in special tokens. Following the OpenAI cookbook ("How to count
 * tokens with tiktoken", the rule for gpt-3.5-turbo-0613, gpt-4 and gpt-4o), a chat prompt counts
 * {@value #TOKENS_PER_MESSAGE} tokens per message, {@value #TOKENS_PER_NAME} more per message with a
 * {@code name}, and {@value #REPLY_PRIMING_TOKENS} for the {@code <|start|>assistant<|message|>} that
 * primes the reply, on top of the tokens of each role, content and name. Completions and embeddings
 * have no overhead; token ids count one each.
 *
 * <h2>Long prompts</h2>
 * BPE cost depends on the text, not only on its length. Measured with jtokkit 1.1.0 on one core
 * of the 2-core development machine, counting 220 K characters as one string: English prose 3 ms
 * (cl100k_base) to 8 ms (o200k_base, which pre-tokenizes with a regex), but 100 to 290 ms for CJK
 * text or letters without spaces, which form one huge pre-token that jtokkit merges slowly. So
 * texts are counted in windows, and past a budget only a sample of them:
 * <ul>
 *   <li>A window is about {@value #WINDOW_CHARS} characters, cut at its last place just before a
 *       space that follows a non-space and precedes a letter. Every encoding's pre-tokenizer
 *       splits there (no pre-token spans from a word over a space into the next word's letters),
 *       so these cuts change no token. A window without such a place lies inside a run without
 *       word breaks (CJK, base64, long identifiers) and is cut after
 *       {@value #RUN_WINDOW_CHARS} characters instead, which may change a token at the cut
 *       (+0.1% on letters without spaces, none on CJK) and keeps jtokkit off its slow path.
 *   <li>Up to {@value #EXACT_CHARS} characters in all, every window is counted: exact for text
 *       with word breaks.
 *   <li>Beyond, an evenly spaced {@code EXACT_CHARS / total} of the windows is counted
 *       (systematic sampling, deterministic), and the count is their tokens per character times
 *       all characters: within 2% on prose (see {@code TokenEstimatorTest}).
 * </ul>
 * A request thus costs at most about {@value #EXACT_CHARS} characters of BPE, whatever its text:
 * measured 0.7 ms (cl100k_base) and 1.2 ms (o200k_base) for 220 K characters of English, 9 and
 * 14 ms for 220 K or 32 K characters of CJK, the worst case. The budget is the knob between that
 * bound and exactness. An estimate, not a bill: the backend's usage settles the charge when the
 * response arrives, so a client who knows the sampled windows and fills them with cheap text gains
 * at most one under-charged request in flight.
 *
 * <h2>Text seen before</h2>
 * Most prompt text has been counted before: a chat resends the whole conversation each turn, many
 * users share a few system prompts, RAG pastes the same documents. So each estimator keeps the
 * counts of the windows it counted, keyed by the window's text itself (a lookup compares the whole
 * text, so no client can make two texts share a count), least recently and least frequently used
 * evicted past {@value #DEFAULT_CACHE_CHARS} characters of keys (system property
 * {@value #CACHE_CHARS_PROPERTY}; 0 turns it off). Windows under {@value #CACHED_WINDOW_CHARS}
 * characters are counted every time: BPE on them costs about what the lookup does. Measured
 * (JMH, {@code BodyParsingBenchmark}, parse included): a 16 KB conversation seen before costs 49 µs
 * against 211 µs uncached with cl100k (102 against 947 µs with o200k); what is left is the parse,
 * the short windows and hashing each window's text for the lookup. A client cannot use the cache to pay
 * less than the exact count; flooding it with distinct text only makes its own windows misses.
 *
 * <h2>What else is input</h2>
 * The JSON of tool and function definitions, of a {@code response_format} schema and of earlier
 * tool calls is counted as text: servers render it into the prompt (in a template of their own,
 * so the count is close, not exact). A content part that is not text (an image, audio, a file)
 * counts a fixed {@value #NON_TEXT_PART_TOKENS}: OpenAI's most expensive high-detail image
 * (85 + 170 per 512-pixel tile, at most 8 tiles after scaling to 2048 by 768). Audio and files
 * cannot be measured without decoding them; the backend's usage settles their real cost.
 *
 * <p>{@code approximate} counts {@code ceil(chars / 4)} and is used for unknown encodings.
 *
 * <p>Encodings are loaded once per JVM, on the first {@link #of} naming them (0.3 to 1.2 s), and
 * shared; call {@link #of} when configuration loads, not on a request. Instances are immutable
 * and thread-safe.
 */
public final class TokenEstimator {

    /** The encoding name of characters / 4. */
    public static final String APPROXIMATE = "approximate";

    static final int TOKENS_PER_MESSAGE = 3;
    static final int TOKENS_PER_NAME = 1;
    static final int REPLY_PRIMING_TOKENS = 3;
    /** Charged per non-text content part; see the class comment. */
    static final int NON_TEXT_PART_TOKENS = 1_445;

    static final int EXACT_CHARS = 32_768;
    static final int WINDOW_CHARS = 1_024;
    static final int RUN_WINDOW_CHARS = 128;
    static final int CACHED_WINDOW_CHARS = 256;
    static final String CACHE_CHARS_PROPERTY = "aimesh.tokenCountCacheChars";
    static final long DEFAULT_CACHE_CHARS = 16L << 20;

    private static final List<String> ENCODINGS = List.of("cl100k_base", "o200k_base", "p50k_base", "r50k_base");
    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();
    private static final Map<String, TokenEstimator> LOADED = new ConcurrentHashMap<>();
    private static final TokenEstimator APPROXIMATION = new TokenEstimator(APPROXIMATE, null, 0);

    private final String name;
    /** Null for {@link #APPROXIMATE}. */
    private final Encoding encoding;
    /** The counts of windows seen before; null when turned off or for {@link #APPROXIMATE}. */
    private final Cache<String, Integer> windowTokens;

    private TokenEstimator(String name, Encoding encoding, long cacheChars) {
        this.name = name;
        this.encoding = encoding;
        this.windowTokens = encoding == null || cacheChars <= 0 ? null : Caffeine.newBuilder()
                .maximumWeight(cacheChars)
                .<String, Integer>weigher((text, tokens) -> text.length())
                .build();
    }

    /** An estimator of its own, with a cache of {@code cacheChars} (0: none); for tests. */
    static TokenEstimator standalone(String encoding, long cacheChars) {
        return new TokenEstimator(encoding, REGISTRY.getEncoding(EncodingType.fromName(encoding).orElseThrow()), cacheChars);
    }

    private static long cacheChars() {
        String value = System.getProperty(CACHE_CHARS_PROPERTY);
        if (value == null) {
            return DEFAULT_CACHE_CHARS;
        }
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property " + CACHE_CHARS_PROPERTY + ": not a number of characters: "
                    + value, e);
        }
    }

    /**
     * The estimator for {@code encoding}: {@code cl100k_base}, {@code o200k_base}, {@code p50k_base},
     * {@code r50k_base} or {@code approximate}. Any other name gives {@code approximate}, the safe
     * fallback; {@link #encoding()} tells which was used. The first call for an encoding loads it.
     */
    public static TokenEstimator of(String encoding) {
        requireNonNull(encoding, "encoding");
        if (!ENCODINGS.contains(encoding)) {
            return APPROXIMATION;
        }
        return LOADED.computeIfAbsent(encoding, name -> new TokenEstimator(name,
                REGISTRY.getEncoding(EncodingType.fromName(name).orElseThrow()), cacheChars()));
    }

    /** The encoding this estimator counts with, e.g. {@code cl100k_base}, or {@code approximate}. */
    public String encoding() {
        return name;
    }

    /**
     * The prompt tokens of {@code request}: its texts, its token ids, its schemas and tool calls, a
     * fixed cost per non-text part and, for chat, the message overhead.
     */
    public long promptTokens(ParsedRequest request) {
        requireNonNull(request, "request");
        long tokens = countTokens(request.promptTexts(), request.inputChars()) + request.promptTokenIds()
                + (long) NON_TEXT_PART_TOKENS * request.nonTextParts();
        if (!request.schemaTexts().isEmpty()) {
            tokens += countTokens(request.schemaTexts(), request.schemaChars());
        }
        if (request.kind() == RequestKind.CHAT) {
            tokens += (long) TOKENS_PER_MESSAGE * request.messageCount()
                    + (long) TOKENS_PER_NAME * request.nameCount()
                    + REPLY_PRIMING_TOKENS;
        }
        return tokens;
    }

    /** The tokens of {@code texts}, whose lengths add up to {@code totalChars}; see the class comment. */
    long countTokens(List<String> texts, long totalChars) {
        if (encoding == null) {
            return (totalChars + 3) / 4;
        }
        boolean exact = totalChars <= EXACT_CHARS;
        double rate = exact ? 1 : (double) EXACT_CHARS / totalChars;
        double credit = 0.5; // mid-stratum: neither the first nor the last window is favoured
        long countedTokens = 0;
        long countedChars = 0;
        for (String text : texts) {
            for (int start = 0, end; start < text.length(); start = end) {
                end = cut(text, start);
                credit += rate;
                if (credit >= 1) {
                    credit -= 1;
                    countedTokens += windowTokens(start == 0 && end == text.length() ? text : text.substring(start, end));
                    countedChars += end - start;
                }
            }
        }
        if (exact || countedChars == 0) {
            return countedTokens;
        }
        return (long) Math.ceil((double) countedTokens * totalChars / countedChars);
    }

    private int windowTokens(String window) {
        // Special-token text such as <|endoftext|> in a prompt is plain text, as for OpenAI.
        if (windowTokens == null || window.length() < CACHED_WINDOW_CHARS) {
            return encoding.countTokensOrdinary(window);
        }
        return windowTokens.get(window, encoding::countTokensOrdinary);
    }

    /** The number of window counts kept; for tests. */
    long cachedWindows() {
        if (windowTokens == null) {
            return 0;
        }
        windowTokens.cleanUp();
        return windowTokens.estimatedSize();
    }

    /** The end of the window of {@code text} that starts at {@code start}; see the class comment. */
    static int cut(String text, int start) {
        int limit = start + WINDOW_CHARS;
        if (limit >= text.length() - 1) {
            return text.length();
        }
        for (int i = limit; i > start; i--) {
            if (text.charAt(i) == ' ' && Character.isLetter(text.charAt(i + 1))
                    && !Character.isWhitespace(text.charAt(i - 1))) {
                return i;
            }
        }
        int hard = start + RUN_WINDOW_CHARS;
        return Character.isHighSurrogate(text.charAt(hard - 1)) ? hard - 1 : hard;
    }
}
