package io.aimesh.filter.body;

import java.util.Random;

/** English-like prose from a fixed seed: words of varied length, punctuation, numbers and line breaks. */
final class SampleText {

    private static final String[] WORDS = ("the of and to in a is that for it as was with be by on not he this are or his "
            + "from at which but have an they you were her she there one all we their can has more been if would no "
            + "will other so what about time people year way day thing because through between government system "
            + "development information available important understanding particularly relationship environment "
            + "consequently approximately responsibility characteristics Tokenizer JSON Kubernetes Envoy latency").split(" ");

    private SampleText() {
    }

    static String of(long seed, int chars) {
        Random random = new Random(seed);
        StringBuilder text = new StringBuilder(chars + 32);
        boolean sentenceStart = true;
        while (text.length() < chars) {
            String word = WORDS[random.nextInt(WORDS.length)];
            text.append(sentenceStart ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word);
            sentenceStart = false;
            int r = random.nextInt(100);
            if (r < 8) {
                text.append(". ");
                sentenceStart = true;
            } else if (r < 12) {
                text.append(", ");
            } else if (r < 13) {
                text.append(' ').append(random.nextInt(10_000)).append(' ');
            } else if (r < 14) {
                text.append(".\n\n");
                sentenceStart = true;
            } else {
                text.append(' ');
            }
        }
        return text.substring(0, chars);
    }
}
