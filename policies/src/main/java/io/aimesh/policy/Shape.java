package io.aimesh.policy;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The declared shape of a policy field. The one description of the policy format: the
 * {@link ShapeChecker} validates YAML against it and {@link PolicySchema} renders it as JSON
 * Schema, so the two can never disagree.
 */
sealed interface Shape {

    /** A short name for error messages, e.g. "a string" or "an integer". */
    String describe();

    /**
     * A string, optionally matching {@code pattern}; {@code hint} explains the pattern to humans.
     * A {@code secret} string is never echoed in errors: a user may paste an API key where its digest belongs.
     * {@code maxLength} bounds it apart from the pattern, since Kubernetes' and JSON Schema's regular
     * expression engines (RE2, ECMA 262) refuse or differ on counted repeats over 1000; patterns stay
     * in the syntax those engines share with Java's.
     */
    record Str(Pattern pattern, String hint, boolean secret, int maxLength) implements Shape {
        static Str any() {
            return new Str(null, null, false, Integer.MAX_VALUE);
        }

        static Str matching(String regex, String hint) {
            return new Str(Pattern.compile(regex), hint, false, Integer.MAX_VALUE);
        }

        static Str matching(String regex, int maxLength, String hint) {
            return new Str(Pattern.compile(regex), hint, false, maxLength);
        }

        static Str secret(String regex, String hint) {
            return new Str(Pattern.compile(regex), hint, true, Integer.MAX_VALUE);
        }

        boolean accepts(String text) {
            return text.length() <= maxLength && (pattern == null || pattern.matcher(text).matches());
        }

        @Override
        public String describe() {
            return hint == null ? "a string" : "a string (" + hint + ")";
        }
    }

    /** Anything; used only where an earlier error (such as an unknown kind) makes the real shape unknowable. */
    record Anything() implements Shape {
        @Override
        public String describe() {
            return "anything";
        }
    }

    /** An integer in {@code [min, max]}. */
    record Int(long min, long max) implements Shape {
        @Override
        public String describe() {
            return "an integer";
        }
    }

    /** {@code true} or {@code false}. */
    record Bool() implements Shape {
        @Override
        public String describe() {
            return "true or false";
        }
    }

    /** One of a fixed set of lower-case words. */
    record OneOf(List<String> values) implements Shape {
        @Override
        public String describe() {
            return "one of " + String.join(", ", values);
        }
    }

    /** A duration such as {@code 500ms}, {@code 2s}, {@code 5m}, {@code 1h}, {@code 1d}. */
    record Dur(java.time.Duration min, java.time.Duration max) implements Shape {
        @Override
        public String describe() {
            return "a duration such as 500ms, 2s, 1m, 1h or 1d";
        }
    }

    /** A list whose items all have shape {@code item}. */
    record ListOf(Shape item, int minItems) implements Shape {
        @Override
        public String describe() {
            return "a list";
        }
    }

    /** A map from string keys to values of shape {@code value}, such as labels. */
    record MapOf(Shape value) implements Shape {
        @Override
        public String describe() {
            return "a map";
        }
    }

    /** An object with exactly the declared fields; any other key is an error. */
    record Obj(String doc, List<Field> fields) implements Shape {
        public Obj {
            fields = List.copyOf(fields);
        }

        Field field(String name) {
            for (Field f : fields) {
                if (f.name().equals(name)) {
                    return f;
                }
            }
            return null;
        }

        @Override
        public String describe() {
            return "a mapping";
        }
    }

    /**
     * A field of an {@link Obj}.
     *
     * @param defaultValue the default as written in YAML, or {@code null} when there is none
     */
    record Field(String name, Shape shape, boolean required, String defaultValue, String doc) {
        static Field required(String name, Shape shape, String doc) {
            return new Field(name, shape, true, null, doc);
        }

        static Field optional(String name, Shape shape, String defaultValue, String doc) {
            return new Field(name, shape, false, defaultValue, doc);
        }
    }
}
