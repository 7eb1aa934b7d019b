package io.aimesh.picker;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads vLLM's load gauges from a Prometheus text exposition (format 0.0.4, which OpenMetrics text
 * also satisfies for gauges): {@code vllm:num_requests_waiting}, {@code vllm:num_requests_running},
 * {@code vllm:kv_cache_usage_perc} (else the older {@code vllm:gpu_cache_usage_perc}, which vLLM
 * still exports beside it) and {@code vllm:lora_requests_info}. These are the names the Gateway API
 * Inference Extension's model-server protocol asks of a server (kubernetes-sigs/
 * gateway-api-inference-extension, docs/proposals/003-model-server-protocol).
 *
 * <p>The input comes from the network, so it is data, not a precondition: {@link #parse} never
 * throws on it, skips what it cannot read, and lists each problem with its line and column
 * ({@code VllmMetricsParserFuzzTest} checks this). Only lines of the five metrics are parsed; a
 * server exports hundreds of others (histograms, counters) and a line that does not start with one
 * of the five names is skipped after reading its name.
 *
 * <h2>Combining series</h2>
 * A server may report a gauge once per label set: per {@code model_name}, per engine when vLLM runs
 * data-parallel engines. Request counts add up across series. KV-cache usage is a fraction and does
 * not add: the largest is taken, since the fullest cache is the one a new request may wait for.
 * {@code vllm:lora_requests_info} is a gauge whose value is the time it was set and whose labels
 * {@code running_lora_adapters}, {@code waiting_lora_adapters} (comma-separated) and {@code max_lora}
 * carry the state; vLLM keeps old label sets, so the series with the newest value wins.
 *
 * <h2>Values</h2>
 * {@code NaN} is a legal sample meaning "no value" and is skipped without a problem. A count that is
 * negative or infinite, or a KV-cache usage outside {@code [0, 1]}, is a problem and skipped: a value
 * we do not understand must not steer the picker (it would rather fall back to in-flight counts).
 * Floats are read as Prometheus writes them: decimal, {@code NaN}, {@code +Inf}, {@code -Inf}
 * (case-insensitive, as Go's {@code strconv.ParseFloat} accepts); Java-only forms such as
 * {@code 1d} or hexadecimal are problems.
 *
 * <p>Syntax, after https://prometheus.io/docs/instrumenting/exposition_formats/: lines end with LF
 * (CRLF accepted); blank lines and {@code #} lines (HELP, TYPE, comments) are skipped; a sample is
 * {@code name [{label="value",...}] value [timestamp]} with blanks or tabs between tokens, an optional
 * trailing comma in the label set, and label values escaping only backslash, double quote and
 * {@code \n}.
 *
 * <p>Why a scanner of its own, and this long: the Prometheus Java client writes the format but does
 * not read it, and a regular expression per line would neither skip the unrelated lines cheaply nor
 * say where a line goes wrong; most of the length is that reporting.
 *
 * <p>Not thread-safe; {@link #parse} makes one per call.
 */
final class VllmMetricsParser {
    /** The most problems listed; more are counted in one last entry. */
    static final int MAX_PROBLEMS = 16;

    private static final String PREFIX = "vllm:";

    /** The metrics read, by name. */
    private enum Metric {
        WAITING("vllm:num_requests_waiting"),
        RUNNING("vllm:num_requests_running"),
        KV_CACHE("vllm:kv_cache_usage_perc"),
        GPU_CACHE("vllm:gpu_cache_usage_perc"),
        LORA_INFO("vllm:lora_requests_info");

        private static final Metric[] ALL = values();

        final String metricName;

        Metric(String metricName) {
            this.metricName = metricName;
        }
    }

    private final String text;
    private final List<String> problems = new ArrayList<>();
    private int problemCount;

    // The line being read: [lineStart, lineStop) without its line end, and the read position.
    private int lineNumber;
    private int lineStart;
    private int lineStop;
    private int pos;
    /** The value of the sample being read. */
    private double sample;

    private double waiting = Double.NaN;
    private double running = Double.NaN;
    private double kvCache = Double.NaN;
    private double gpuCache = Double.NaN;

    // The lora_requests_info series with the newest value so far, and the labels of the line being read.
    private double loraNewest = Double.NaN;
    private int loraLine;
    private String loraRunning;
    private String loraWaiting;
    private String loraMax;
    private String lineRunning;
    private String lineWaiting;
    private String lineMax;

    private VllmMetricsParser(String text) {
        this.text = text;
    }

    /**
     * Reads the gauges from {@code text}; never throws on malformed input.
     *
     * @param text a Prometheus text exposition, such as a {@code /metrics} response body
     * @return what was found, with {@code NaN} and empty sets for what was not, and the problems met
     */
    static VllmMetrics parse(String text) {
        return new VllmMetricsParser(requireNonNull(text, "text")).read();
    }

    private VllmMetrics read() {
        int start = 0;
        int length = text.length();
        while (start <= length) {
            int end = text.indexOf('\n', start);
            if (end < 0) {
                end = length;
            }
            lineNumber++;
            lineStart = start;
            lineStop = end > start && text.charAt(end - 1) == '\r' ? end - 1 : end;
            readLine();
            start = end + 1;
        }
        return result();
    }

    private void readLine() {
        pos = skipBlanks(lineStart);
        if (pos == lineStop || text.charAt(pos) == '#') {
            return;
        }
        int nameStart = pos;
        while (pos < lineStop && !endsName(text.charAt(pos))) {
            pos++;
        }
        Metric metric = metricNamed(nameStart, pos);
        if (metric == null) {
            return;
        }
        lineRunning = null;
        lineWaiting = null;
        lineMax = null;
        pos = skipBlanks(pos);
        if (pos < lineStop && text.charAt(pos) == '{' && !readLabels(metric)) {
            return;
        }
        pos = skipBlanks(pos);
        int valueStart = pos;
        while (pos < lineStop && !isBlank(text.charAt(pos))) {
            pos++;
        }
        if (valueStart == pos) {
            problem(valueStart, metric.metricName + ": missing value");
            return;
        }
        if (!readValue(valueStart, pos) || !readTimestamp()) {
            return;
        }
        record(metric, sample, valueStart);
    }

    /** Reads {@code {name="value",...}} from {@link #pos}; false (with a problem) when malformed. */
    private boolean readLabels(Metric metric) {
        pos++;
        while (true) {
            pos = skipBlanks(pos);
            if (pos == lineStop) {
                return problem(pos, metric.metricName + ": unterminated label set");
            }
            if (text.charAt(pos) == '}') {
                pos++;
                return true;
            }
            int nameStart = pos;
            while (pos < lineStop && isLabelNameChar(text.charAt(pos), pos == nameStart)) {
                pos++;
            }
            if (pos == nameStart) {
                return problem(pos, metric.metricName + ": expected a label name");
            }
            int nameEnd = pos;
            pos = skipBlanks(pos);
            if (pos == lineStop || text.charAt(pos) != '=') {
                return problem(pos, metric.metricName + ": expected '=' after label " + text.substring(nameStart, nameEnd));
            }
            pos = skipBlanks(pos + 1);
            if (pos == lineStop || text.charAt(pos) != '"') {
                return problem(pos, metric.metricName + ": expected '\"' to open the value of label "
                        + text.substring(nameStart, nameEnd));
            }
            String value = readQuoted(metric == Metric.LORA_INFO);
            if (value == null) {
                return false;
            }
            if (metric == Metric.LORA_INFO) {
                keepLoraLabel(nameStart, nameEnd, value);
            }
            pos = skipBlanks(pos);
            if (pos < lineStop && text.charAt(pos) == ',') {
                pos++;
            } else if (pos == lineStop || text.charAt(pos) != '}') {
                return problem(pos, metric.metricName + ": expected ',' or '}' after a label value");
            }
        }
    }

    /**
     * Reads a quoted label value from {@link #pos}, at its opening quote; returns it unescaped when
     * {@code keep} (else {@code ""}), or {@code null} with a problem when malformed.
     */
    private String readQuoted(boolean keep) {
        int open = pos;
        StringBuilder value = keep ? new StringBuilder() : null;
        pos++;
        while (pos < lineStop) {
            char c = text.charAt(pos);
            if (c == '"') {
                pos++;
                return keep ? value.toString() : "";
            }
            if (c == '\\') {
                if (pos + 1 == lineStop) {
                    break;
                }
                char escaped = text.charAt(pos + 1);
                if (escaped != '\\' && escaped != '"' && escaped != 'n') {
                    problem(pos, "invalid escape \\" + escaped + " in a label value (expected: \\\\, \\\" or \\n)");
                    return null;
                }
                c = escaped == 'n' ? '\n' : escaped;
                pos++;
            }
            if (keep) {
                value.append(c);
            }
            pos++;
        }
        problem(open, "unterminated label value");
        return null;
    }

    private void keepLoraLabel(int nameStart, int nameEnd, String value) {
        if (labelIs(nameStart, nameEnd, "running_lora_adapters")) {
            lineRunning = value;
        } else if (labelIs(nameStart, nameEnd, "waiting_lora_adapters")) {
            lineWaiting = value;
        } else if (labelIs(nameStart, nameEnd, "max_lora")) {
            lineMax = value;
        }
    }

    /** Checks the optional timestamp after the value, and that nothing else follows. */
    private boolean readTimestamp() {
        pos = skipBlanks(pos);
        if (pos == lineStop) {
            return true;
        }
        int start = pos;
        if (text.charAt(pos) == '-') {
            pos++;
        }
        int digits = pos;
        while (pos < lineStop && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            pos++;
        }
        if (pos == digits || (pos < lineStop && !isBlank(text.charAt(pos)))) {
            return problem(start, "expected an integer timestamp or the end of the line");
        }
        pos = skipBlanks(pos);
        return pos == lineStop || problem(pos, "unexpected text after the timestamp");
    }

    /** Parses a sample value into {@link #sample}; false with a problem when malformed. */
    private boolean readValue(int start, int end) {
        String token = text.substring(start, end);
        switch (token.toLowerCase(Locale.ROOT)) {
            case "nan":
                sample = Double.NaN;
                return true;
            case "inf": case "+inf": case "infinity": case "+infinity":
                sample = Double.POSITIVE_INFINITY;
                return true;
            case "-inf": case "-infinity":
                sample = Double.NEGATIVE_INFINITY;
                return true;
            default:
                break;
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (!(c >= '0' && c <= '9') && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-') {
                return problem(start, "malformed value \"" + token + "\"");
            }
        }
        try {
            sample = Double.parseDouble(token);
            return true;
        } catch (NumberFormatException e) {
            return problem(start, "malformed value \"" + token + "\"");
        }
    }

    private void record(Metric metric, double value, int at) {
        if (Double.isNaN(value)) {
            return;
        }
        switch (metric) {
            case WAITING:
                waiting = addCount(waiting, value, metric, at);
                break;
            case RUNNING:
                running = addCount(running, value, metric, at);
                break;
            case KV_CACHE:
                kvCache = maxFraction(kvCache, value, metric, at);
                break;
            case GPU_CACHE:
                gpuCache = maxFraction(gpuCache, value, metric, at);
                break;
            case LORA_INFO:
                recordLora(value, at);
                break;
        }
    }

    private double addCount(double sum, double value, Metric metric, int at) {
        if (value < 0 || Double.isInfinite(value)) {
            problem(at, metric.metricName + ": " + value + " (expected: a finite count >= 0)");
            return sum;
        }
        return Double.isNaN(sum) ? value : sum + value;
    }

    private double maxFraction(double max, double value, Metric metric, int at) {
        if (value < 0 || value > 1) {
            problem(at, metric.metricName + ": " + value + " (expected: a fraction from 0 to 1)");
            return max;
        }
        return Double.isNaN(max) ? value : Math.max(max, value);
    }

    private void recordLora(double value, int at) {
        if (Double.isInfinite(value)) {
            problem(at, Metric.LORA_INFO.metricName + ": " + value + " (expected: a finite timestamp)");
            return;
        }
        if (Double.isNaN(loraNewest) || value >= loraNewest) {
            loraNewest = value;
            loraLine = lineNumber;
            loraRunning = lineRunning;
            loraWaiting = lineWaiting;
            loraMax = lineMax;
        }
    }

    private VllmMetrics result() {
        double kv = Double.isNaN(kvCache) ? gpuCache : kvCache;
        int maxLoras = 0;
        if (loraMax != null && !loraMax.isBlank()) {
            maxLoras = parseMaxLoras(loraMax.strip());
        }
        if (problemCount > MAX_PROBLEMS) {
            problems.add("and " + (problemCount - MAX_PROBLEMS) + " more problems");
        }
        return new VllmMetrics(waiting, running, kv, adapters(loraRunning), adapters(loraWaiting), maxLoras, problems);
    }

    private int parseMaxLoras(String value) {
        try {
            int max = Integer.parseInt(value);
            if (max >= 0) {
                return max;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        addProblem("line " + loraLine + ": " + Metric.LORA_INFO.metricName + ": max_lora \"" + value
                + "\" (expected: an integer >= 0)");
        return 0;
    }

    private static Set<String> adapters(String list) {
        if (list == null || list.isBlank()) {
            return Set.of();
        }
        Set<String> adapters = new LinkedHashSet<>();
        for (String adapter : list.split(",")) {
            String name = adapter.strip();
            if (!name.isEmpty()) {
                adapters.add(name);
            }
        }
        return adapters;
    }

    private Metric metricNamed(int start, int end) {
        if (!text.startsWith(PREFIX, start)) {
            return null;
        }
        for (Metric metric : Metric.ALL) {
            String name = metric.metricName;
            if (end - start == name.length() && text.startsWith(name, start)) {
                return metric;
            }
        }
        return null;
    }

    private boolean labelIs(int start, int end, String name) {
        return end - start == name.length() && text.startsWith(name, start);
    }

    /** Records a problem at {@code at} in the current line; returns false, for {@code return problem(...)}. */
    private boolean problem(int at, String message) {
        addProblem("line " + lineNumber + ", column " + (at - lineStart + 1) + ": " + message);
        return false;
    }

    private void addProblem(String problem) {
        problemCount++;
        if (problemCount <= MAX_PROBLEMS) {
            problems.add(problem);
        }
    }

    private int skipBlanks(int from) {
        int i = from;
        while (i < lineStop && isBlank(text.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    private static boolean endsName(char c) {
        return c == '{' || isBlank(c);
    }

    private static boolean isLabelNameChar(char c, boolean first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
    }
}
