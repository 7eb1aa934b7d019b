package io.aimesh.filter.body;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TokenEstimatorTest {

    /** The example conversation of OpenAI's cookbook "How to count tokens with tiktoken". */
    private static final String COOKBOOK_CHAT = """
            {"model":"gpt-4","messages":[
             {"role":"system","content":"You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
             {"role":"system","name":"example_user","content":"New synergies will help drive top-line growth."},
             {"role":"system","name":"example_assistant","content":"Things working well together will increase revenue."},
             {"role":"system","name":"example_user","content":"Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
             {"role":"system","name":"example_assistant","content":"Let's talk later when we're less busy about how to do better."},
             {"role":"user","content":"This late pivot means we don't have time to boil the ocean for the client deliverable."}]}""";

    private static ParsedRequest parse(RequestKind kind, String body) {
        return (ParsedRequest) RequestBodyParser.of(1 << 20).parse(kind, null, body.getBytes(UTF_8));
    }

    @ParameterizedTest
    @CsvSource({"cl100k_base, 129", "o200k_base, 124"})
    void promptTokens_matchesTheCookbooksCountsForItsExampleChat(String encoding, long tokens) {
        // The cookbook reports 129 (gpt-3.5-turbo-0613, gpt-4) and 124 (gpt-4o), equal to the API's usage.
        assertThat(TokenEstimator.of(encoding).promptTokens(parse(RequestKind.CHAT, COOKBOOK_CHAT))).isEqualTo(tokens);
    }

    @Test
    void promptTokens_addsNoOverheadToCompletions_andCountsTokenIdsOneEach() {
        TokenEstimator estimator = TokenEstimator.of("cl100k_base");

        assertThat(estimator.promptTokens(parse(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":\"Hello world\"}")))
                .isEqualTo(2);
        assertThat(estimator.promptTokens(parse(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":[[1,2,3],[4]]}")))
                .isEqualTo(4);
        assertThat(estimator.promptTokens(parse(RequestKind.EMBEDDING, "{\"model\":\"m\",\"input\":[\"Hello world\",\"Hello\"]}")))
                .isEqualTo(3);
    }

    @Test
    void promptTokens_countsChatOverheadPerMessageAndName() {
        TokenEstimator estimator = TokenEstimator.of("cl100k_base");
        ParsedRequest oneMessage = parse(RequestKind.CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello world\"}]}");
        ParsedRequest named = parse(RequestKind.CHAT,
                "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"name\":\"bob\",\"content\":\"Hello world\"}]}");

        // "user" 1 + "Hello world" 2 + 3 per message + 3 priming the reply.
        assertThat(estimator.promptTokens(oneMessage)).isEqualTo(9);
        // + "bob" 1 + 1 per name.
        assertThat(estimator.promptTokens(named)).isEqualTo(11);
    }

    @Test
    void approximate_countsCharactersDividedByFourRoundedUp_plusOverhead() {
        ParsedRequest chat = parse(RequestKind.CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}");

        // ceil(("user" + "Hello") 9 chars / 4) = 3, + 3 + 3.
        assertThat(TokenEstimator.of("approximate").promptTokens(chat)).isEqualTo(9);
        assertThat(TokenEstimator.of("approximate").promptTokens(parse(RequestKind.COMPLETION,
                "{\"model\":\"m\",\"prompt\":\"12345678\"}"))).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "CL100K_BASE", "p50k_edit", ""})
    void of_fallsBackToApproximate_forUnknownEncodings(String name) {
        assertThat(TokenEstimator.of(name).encoding()).isEqualTo(TokenEstimator.APPROXIMATE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cl100k_base", "o200k_base", "p50k_base", "r50k_base", "approximate"})
    void of_sharesOneEstimatorPerEncoding(String name) {
        assertThat(TokenEstimator.of(name)).isSameAs(TokenEstimator.of(name));
        assertThat(TokenEstimator.of(name).encoding()).isEqualTo(name);
    }

    @Test
    void countTokens_treatsSpecialTokenTextAsText_insteadOfFailing() {
        TokenEstimator estimator = TokenEstimator.of("cl100k_base");

        assertThat(estimator.countTokens(List.of("<|endoftext|>"), 13)).isGreaterThan(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cl100k_base", "o200k_base", "p50k_base", "r50k_base"})
    void cut_atWordStarts_changesNoToken(String name) {
        Encoding encoding = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.fromName(name).orElseThrow());
        String text = SampleText.of(7, TokenEstimator.EXACT_CHARS);
        long windows = 0;
        for (int start = 0, end; start < text.length(); start = end) {
            end = TokenEstimator.cut(text, start);
            windows += encoding.countTokensOrdinary(text.substring(start, end));
        }

        assertThat(windows).isEqualTo(encoding.countTokensOrdinary(text));
    }

    @Test
    void cut_endsAWindowJustBeforeAWordAfterANonSpace() {
        // The window limit falls on the "2"; " 12" starts no word and "  aa" follows a space.
        String text = "x".repeat(TokenEstimator.WINDOW_CHARS - 10) + "  aa, bb 12 cc" + "y".repeat(100);

        int end = TokenEstimator.cut(text, 0);

        assertThat(text.substring(end)).startsWith(" bb 12 cc");
    }

    @Test
    void cut_splitsARunWithoutWordStarts_intoShortWindows_neverInsideASurrogatePair() {
        String emoji = "\ud83d\ude00".repeat(2_000);

        int end = TokenEstimator.cut(emoji, 0);

        assertThat(end).isEqualTo(TokenEstimator.RUN_WINDOW_CHARS);
        assertThat(TokenEstimator.cut(emoji, 1)).isEqualTo(TokenEstimator.RUN_WINDOW_CHARS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cl100k_base", "o200k_base"})
    void countTokens_isExact_upToTheExactLimit(String name) {
        Encoding encoding = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.fromName(name).orElseThrow());
        String a = SampleText.of(1, TokenEstimator.EXACT_CHARS / 2);
        String b = SampleText.of(2, TokenEstimator.EXACT_CHARS / 2);

        assertThat(TokenEstimator.of(name).countTokens(List.of(a, b), a.length() + b.length()))
                .isEqualTo(encoding.countTokensOrdinary(a) + encoding.countTokensOrdinary(b));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cl100k_base", "o200k_base", "p50k_base", "r50k_base"})
    void countTokens_samplesA220KbPrompt_withinTwoPercent(String name) {
        Encoding encoding = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.fromName(name).orElseThrow());
        String text = SampleText.of(3, 220_000);
        long exact = encoding.countTokensOrdinary(text);

        long estimate = TokenEstimator.of(name).countTokens(List.of(text), text.length());

        assertThat((double) estimate).isCloseTo(exact, within(exact * 0.02));
    }

    @Test
    void countTokens_samplesManyShortMessages_withinTwoPercent() {
        Encoding encoding = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
        Random random = new Random(11);
        List<String> texts = new ArrayList<>();
        long chars = 0;
        long exact = 0;
        for (int i = 0; i < 3_000; i++) {
            String text = SampleText.of(random.nextLong(), 10 + random.nextInt(60));
            texts.add(text);
            chars += text.length();
            exact += encoding.countTokensOrdinary(text);
        }

        long estimate = TokenEstimator.of("cl100k_base").countTokens(texts, chars);

        assertThat(chars).isGreaterThan(TokenEstimator.EXACT_CHARS);
        assertThat((double) estimate).isCloseTo(exact, within(exact * 0.02));
    }

    @Test
    void countTokens_ofTextWithoutSpaces_staysWithinOnePercent() {
        Random random = new Random(5);
        StringBuilder letters = new StringBuilder();
        while (letters.length() < 100_000) {
            letters.append((char) ('a' + random.nextInt(26)));
        }
        String text = letters.toString();
        long exact = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.CL100K_BASE).countTokensOrdinary(text);

        long estimate = TokenEstimator.of("cl100k_base").countTokens(List.of(text), text.length());

        assertThat((double) estimate).isCloseTo(exact, within(exact * 0.01));
    }

    @Test
    void promptTokens_ofAnEmptyCompletionPrompt_isZero() {
        ParsedRequest empty = parse(RequestKind.COMPLETION, "{\"model\":\"m\",\"prompt\":\"\"}");

        assertThat(TokenEstimator.of("o200k_base").promptTokens(empty)).isZero();
        assertThat(empty.maxTokens()).isEqualTo(OptionalLong.empty());
    }

    @Test
    void promptTokens_countsToolSchemasAsText_andAFixedCostPerNonTextPart() {
        String tools = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{}}}]";
        String plain = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        String withTools = plain.replace("{\"model\"", "{\"tools\":" + tools + ",\"model\"");
        String withImage = plain.replace("\"content\":\"hi\"",
                "\"content\":[{\"type\":\"text\",\"text\":\"hi\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]");
        TokenEstimator approximate = TokenEstimator.of("approximate");
        long base = approximate.promptTokens(parse(RequestKind.CHAT, plain));

        assertThat(approximate.promptTokens(parse(RequestKind.CHAT, withTools))).isEqualTo(base + (tools.length() + 3) / 4);
        assertThat(approximate.promptTokens(parse(RequestKind.CHAT, withImage)))
                .isEqualTo(base + TokenEstimator.NON_TEXT_PART_TOKENS);
    }

    @Test
    void countTokens_ofAConversationSeenBefore_givesTheSameCount_fromTheCache() {
        Encoding encoding = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
        TokenEstimator estimator = TokenEstimator.standalone("cl100k_base", 1 << 20);
        List<String> turns = new ArrayList<>();
        long chars = 0;
        long exact = 0;
        for (int turn = 0; turn < 6; turn++) {
            String text = SampleText.of(100 + turn, 1_500);
            turns.add(text);
            chars += text.length();
            exact += encoding.countTokensOrdinary(text);
            // Each turn resends the conversation so far, as a chat client does.
            assertThat(estimator.countTokens(turns, chars)).isEqualTo(exact);
        }

        // Two windows (1,024 and the rest) per 1,500-character turn, each counted once.
        assertThat(estimator.cachedWindows()).isEqualTo(12);
        assertThat(estimator.countTokens(turns, chars)).isEqualTo(exact);
    }

    @Test
    void countTokens_cachesNoShortWindow_andNothingWhenTurnedOff() {
        String longText = SampleText.of(7, 600);
        String shortText = SampleText.of(8, TokenEstimator.CACHED_WINDOW_CHARS - 1);
        TokenEstimator cached = TokenEstimator.standalone("cl100k_base", 1 << 20);
        TokenEstimator off = TokenEstimator.standalone("cl100k_base", 0);

        long withCache = cached.countTokens(List.of(longText, shortText), longText.length() + shortText.length());
        long without = off.countTokens(List.of(longText, shortText), longText.length() + shortText.length());

        assertThat(withCache).isEqualTo(without);
        assertThat(cached.cachedWindows()).isEqualTo(1);
        assertThat(off.cachedWindows()).isZero();
    }

    @Test
    void countTokens_keepsTheCacheWithinItsCharacters() {
        TokenEstimator estimator = TokenEstimator.standalone("cl100k_base", 8_192);
        for (int i = 0; i < 200; i++) {
            String text = SampleText.of(1_000 + i, 900);
            assertThat(text).hasSize(900);
            estimator.countTokens(List.of(text), text.length());
        }

        // 9 windows of 900 characters fit in 8,192.
        assertThat(estimator.cachedWindows()).isBetween(1L, 9L);
    }

    @Test
    void countTokens_ofTwoTextsWithOneHashCode_countsEachItsOwn() {
        // "Aa" and "BB" have the same String.hashCode, so these do too: a client cannot borrow a count.
        String cheap = "Aa".repeat(200);
        String dear = "BB".repeat(200);
        Encoding encoding = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
        TokenEstimator estimator = TokenEstimator.standalone("cl100k_base", 1 << 20);

        assertThat(cheap.hashCode()).isEqualTo(dear.hashCode());
        assertThat(estimator.countTokens(List.of(cheap), cheap.length())).isEqualTo(encoding.countTokensOrdinary(cheap));
        assertThat(estimator.countTokens(List.of(dear), dear.length())).isEqualTo(encoding.countTokensOrdinary(dear));
        assertThat(encoding.countTokensOrdinary(cheap)).isNotEqualTo(encoding.countTokensOrdinary(dear));
    }
}
