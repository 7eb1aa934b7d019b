package io.aimesh.xds;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may see the dashboard: anyone on loopback by default; with an admin token file, only a
 * request carrying the token (the probes and /metrics stay open); off loopback, no one without one.
 */
class DashboardAccessTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @TempDir
    Path directory;

    private static HttpResponse<String> get(int port, String path, String bearer) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        if (bearer != null) {
            request.header("authorization", "Bearer " + bearer);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void onLoopback_theDashboardIsServed_asHtml_withItsJsonBeside() throws Exception {
        try (ControlPlane plane = ControlPlane.start(ControlPlaneOptions.defaults(Files.createDirectories(directory.resolve("p")))
                .withXds("127.0.0.1", 0).withAdmin("127.0.0.1", 0))) {
            HttpResponse<String> page = get(plane.adminPort(), "/", null);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
            assertThat(page.body()).contains("<table id=\"versions\">").contains("<table id=\"nodes\">");
            assertThat(get(plane.adminPort(), "/?fragment=1", null).body()).doesNotContain("<html").contains("<table id=\"tenants\">");
            assertThat(get(plane.adminPort(), "/dashboard.json", null).body()).contains("\"traffic\"");
            assertThat(get(plane.adminPort(), "/no-such-page", null).statusCode()).isEqualTo(404);
        }
    }

    @Test
    void withATokenFile_everyAdminPageNeedsTheToken_butTheProbesAndMetrics() throws Exception {
        Path token = Files.writeString(directory.resolve("token"), "s3cret-token\n");
        try (ControlPlane plane = ControlPlane.start(ControlPlaneOptions.defaults(Files.createDirectories(directory.resolve("p")))
                .withXds("127.0.0.1", 0).withAdmin("127.0.0.1", 0).withAdminTokenFile(token))) {
            int port = plane.adminPort();
            for (String path : new String[] {"/", "/dashboard.json", "/nodes", "/config_dump", "/rollouts"}) {
                assertThat(get(port, path, null).statusCode()).as(path).isEqualTo(401);
                assertThat(get(port, path, "wrong").statusCode()).as(path).isEqualTo(401);
                assertThat(get(port, path, "s3cret-token").statusCode()).as(path).isEqualTo(200);
            }
            assertThat(get(port, "/?token=s3cret-token", null).statusCode()).as("a browser's way").isEqualTo(200);
            assertThat(get(port, "/", null).body()).doesNotContain("s3cret");
            for (String path : new String[] {"/healthz", "/readyz", "/metrics"}) {
                assertThat(get(port, path, null).statusCode()).as(path).isNotEqualTo(401);
            }
        }
    }

    @Test
    void offLoopbackWithoutAToken_theDashboardIsRefused() throws Exception {
        try (ControlPlane plane = ControlPlane.start(ControlPlaneOptions.defaults(Files.createDirectories(directory.resolve("p")))
                .withXds("127.0.0.1", 0).withAdmin("0.0.0.0", 0))) {
            HttpResponse<String> page = get(plane.adminPort(), "/", null);
            assertThat(page.statusCode()).isEqualTo(403);
            assertThat(page.body()).contains("--admin-token-file");
        }
    }
}
