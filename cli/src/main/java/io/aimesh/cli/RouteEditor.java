package io.aimesh.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Changes the weights in the demo's route file in place, keeping its comments and layout. */
final class RouteEditor {
    private static final Pattern WEIGHT = Pattern.compile("(?m)^(\\s*weight:\\s*)\\d+");

    private RouteEditor() {
    }

    /** Sets the first two {@code weight:} lines of {@code file} and replaces the file atomically. */
    static void setWeights(Path file, int first, int second) throws IOException {
        String text = Files.readString(file);
        Matcher m = WEIGHT.matcher(text);
        StringBuilder out = new StringBuilder();
        int index = 0;
        while (m.find()) {
            int weight = index == 0 ? first : index == 1 ? second : -1;
            m.appendReplacement(out, weight < 0 ? m.group() : m.group(1) + weight);
            index++;
        }
        m.appendTail(out);
        Path tmp = Files.createTempFile(file.getParent(), ".routes-", ".tmp");
        Files.writeString(tmp, out);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
