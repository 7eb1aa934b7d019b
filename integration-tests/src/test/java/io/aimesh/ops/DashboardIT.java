package io.aimesh.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aimesh.testing.Mesh;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The control plane's dashboard on a real stack (Envoy, the ai-filter, model-sims, a 70/30 canary):
 * traffic is sent, the page is loaded in headless Chromium (Debian's {@code chromium}, installed by
 * {@code .ci/run}), and the numbers in its DOM are the traffic sent: requests per version (as the
 * model servers' answers name it) and per tenant by outcome. Read both as the server sent it (what a
 * browser with JavaScript off shows) and as Chromium's DOM after the page's script refreshed it. A screenshot is written to {@code target/dashboard.png}
 * ({@code AIMESH_SCREENSHOT_DIR} to put it elsewhere, e.g. {@code docs/images}).
 */
class DashboardIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void thePage_showsTheTrafficSent_perVersionAndTenant() throws Exception {
        String chromium = System.getenv().getOrDefault("AIMESH_CHROMIUM", "chromium");
        try (Mesh mesh = Mesh.builder().canary(70, 30).filter("closed").acmeTokensPerMinute(300).start()) {
            String base = "http://127.0.0.1:" + mesh.controlPlane().adminPort();
            // The mesh's start-up probes are traffic too: the board must show them plus what this test sends.
            long[] settled = {-1};
            await().atMost(Duration.ofSeconds(10)).during(Duration.ofMillis(1500)).until(() -> {
                long total = versionTotal(base);
                boolean same = total == settled[0];
                settled[0] = total;
                return same;
            });
            JsonNode before = JSON.readTree(get(base + "/dashboard.json")).path("traffic");
            Map<String, Integer> versions = new TreeMap<>();
            for (JsonNode version : before.path("versions")) {
                if (version.path("model").asText().equals(Mesh.MODEL)) {
                    versions.put(version.path("version").asText(), version.path("requests").asInt());
                }
            }
            int globexBefore = 0;
            for (JsonNode tenant : before.path("tenants")) {
                globexBefore += tenant.path("tenant").asText().equals("globex") ? tenant.path("outcomes").path("admitted").asInt() : 0;
            }
            // The refused ones first: a report that has every served request then has them too (the
            // board is awaited on the served count below).
            for (int i = 0; i < 5; i++) {
                assertThat(mesh.chat(null, false, 8, Map.of()).statusCode()).isEqualTo(401);
            }
            int acme = 0;
            int acmeLimited = 0;
            for (int i = 0; i < 60; i++) {
                HttpResponse<String> answer = mesh.chat(i % 3 == 0 ? Mesh.ACME_KEY : Mesh.GLOBEX_KEY, i % 2 == 0, 8, Map.of());
                if (i % 3 == 0) {
                    acme++;
                    acmeLimited += answer.statusCode() == 429 ? 1 : 0;
                }
                if (answer.statusCode() == 200) {
                    versions.merge(answer.headers().firstValue("x-model-sim-version").orElseThrow(), 1, Integer::sum);
                } else {
                    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(429);
                }
            }
            int served = versions.values().stream().mapToInt(Integer::intValue).sum();
            assertThat(versions).containsKeys("v1", "v2");
            // The filter reports four times a second: wait until every request is on the board.
            try {
                await().atMost(Duration.ofSeconds(15)).until(() -> versionTotal(base) == served);
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError(served + " requests served, the board has " + get(base + "/dashboard.json"), e);
            }

            for (boolean script : List.of(false, true)) {
                // JavaScript off, the browser shows the server's HTML as it came (Chromium's --dump-dom needs scripts on).
                String dom = script ? dumpDom(chromium, base + "/") : get(base + "/");
                for (Map.Entry<String, Integer> version : versions.entrySet()) {
                    assertThat(field(dom, "data-version", "llama/" + version.getKey(), "requests"))
                            .as("requests of %s (JavaScript %s)", version.getKey(), script ? "on" : "off")
                            .isEqualTo(version.getValue().toString());
                }
                assertThat(field(dom, "data-version", "llama/v1", "weight")).isEqualTo("70 %");
                assertThat(field(dom, "data-version", "llama/v2", "weight")).isEqualTo("30 %");
                assertThat(field(dom, "data-tenant", "acme", "requests")).isEqualTo(Integer.toString(acme));
                assertThat(field(dom, "data-tenant", "acme", "limited")).isEqualTo(Integer.toString(acmeLimited));
                assertThat(field(dom, "data-tenant", "acme", "admitted")).isEqualTo(Integer.toString(acme - acmeLimited));
                assertThat(field(dom, "data-tenant", "globex", "admitted")).isEqualTo(Integer.toString(globexBefore + 60 - acme));
                assertThat(field(dom, "data-tenant", "(no identity)", "denied")).isEqualTo("5");
                assertThat(dom).as("acme's token limit, as the filter last reported it")
                        .containsPattern("<div data-budget=\"\\*:tokens-per-minute:total\"[^>]*>\\*:tokens-per-minute:total \\(1m\\): \\d+ of 300, \\d+ left");
                assertThat(Pattern.compile("data-field=\"sync\">SYNCED<").matcher(dom).results().count())
                        .as("Envoy and the ai-filter in sync").isEqualTo(2);
                assertThat(dom).contains("<svg id=\"chart\"").contains("<polyline").contains("<table id=\"endpoints\"");
            }
            Path shots = Path.of(System.getenv().getOrDefault("AIMESH_SCREENSHOT_DIR", "target"));
            Files.createDirectories(shots);
            Path png = shots.toAbsolutePath().resolve("dashboard.png");
            Files.deleteIfExists(png);
            run(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1100,780",
                    "--screenshot=" + png, base + "/");
            byte[] image = Files.readAllBytes(png);
            assertThat(image.length).isGreaterThan(10_000);
            assertThat(new String(image, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
        }
    }

    private static String get(String url) throws IOException, InterruptedException {
        return java.net.http.HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static long versionTotal(String base) throws IOException, InterruptedException {
        long total = 0;
        for (JsonNode version : JSON.readTree(get(base + "/dashboard.json")).path("traffic").path("versions")) {
            total += version.path("requests").asLong();
        }
        return total;
    }

    /** The text of the cell {@code field} in the row whose {@code attribute} is {@code key}. */
    private static String field(String dom, String attribute, String key, String field) {
        Matcher row = Pattern.compile("<tr " + attribute + "=\"" + Pattern.quote(key) + "\">(.*?)</tr>", Pattern.DOTALL).matcher(dom);
        assertThat(row.find()).as("a row %s=%s in the page: %s", attribute, key, dom.length() > 3000 ? dom.substring(0, 3000) : dom)
                .isTrue();
        Matcher cell = Pattern.compile("<td[^>]*data-field=\"" + Pattern.quote(field) + "\"[^>]*>([^<]*)</td>").matcher(row.group(1));
        assertThat(cell.find()).as("cell %s of %s", field, key).isTrue();
        return cell.group(1);
    }

    /** The page's DOM after it loaded and its script ran (its first refresh of the tables included). */
    private static String dumpDom(String chromium, String url) throws IOException, InterruptedException {
        return run(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000", "--dump-dom", url);
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new AssertionError(command[0] + " not found: install Debian's chromium (.ci/run does) or set AIMESH_CHROMIUM", e);
        }
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("chromium finished").isTrue();
        assertThat(process.exitValue()).as("chromium's exit").isZero();
        return out;
    }
}
