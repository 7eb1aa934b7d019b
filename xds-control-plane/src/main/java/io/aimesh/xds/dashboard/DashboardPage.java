package io.aimesh.xds.dashboard;

import io.aimesh.xds.server.NodeStatus;
import io.aimesh.xds.snapshot.XdsSnapshot;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The dashboard as HTML: tables rendered on the server, so the page reads with JavaScript off
 * (then it reloads itself every 10 s); with JavaScript on, a dozen lines fetch the same tables
 * ({@code ?fragment=1}) every 2 s and swap them in. Charts are inline SVG drawn here: no script
 * library, nothing to build. Every cell a test or a script reads carries {@code data-*} names.
 */
public final class DashboardPage {
    private static final String[] COLOURS = {"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#65a30d",
        "#db2777"};
    private static final List<String> OUTCOMES = List.of("admitted", "limited", "denied", "shed", "error");

    private DashboardPage() {
    }

    /** The whole page. */
    public static String page(DashboardView view, List<NodeStatus> nodes, Map<String, XdsSnapshot> scopes, String policy) {
        return """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><title>aimesh</title>
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <noscript><meta http-equiv="refresh" content="10"></noscript>
                <style>
                body{font:14px system-ui,sans-serif;margin:1.5em;color:#111}h1{font-size:20px;margin:0 0 .2em}
                h2{font-size:15px;margin:1.4em 0 .4em}table{border-collapse:collapse}td,th{padding:3px 10px;text-align:right;
                border-bottom:1px solid #e5e7eb}th{background:#f3f4f6}td.name,th.name{text-align:left}
                .bad{color:#b91c1c;font-weight:600}.ok{color:#15803d}.muted{color:#6b7280}svg{background:#fafafa;border:1px solid #e5e7eb}
                </style></head><body>
                <h1>aimesh</h1><div id="board">%s</div>
                <script>
                (function () {
                  var board = document.getElementById('board');
                  var query = location.search ? location.search + '&fragment=1' : '?fragment=1';
                  setInterval(function () {
                    fetch(location.pathname + query).then(function (r) { return r.ok ? r.text() : null; })
                      .then(function (html) { if (html) { board.innerHTML = html; } }).catch(function () {});
                  }, 2000);
                })();
                </script></body></html>
                """.formatted(fragment(view, nodes, scopes, policy));
    }

    /** The tables and charts alone, for the page's script to swap in. */
    public static String fragment(DashboardView view, List<NodeStatus> nodes, Map<String, XdsSnapshot> scopes, String policy) {
        StringBuilder html = new StringBuilder();
        html.append("<p class=\"muted\" data-field=\"at\">").append(escape(view.at()))
                .append(" · policies ").append(escape(policy)).append(" · counts over the last ")
                .append(Ring.SLOTS * view.slotSeconds() / 60).append(" minutes, rates and TTFT over the last ")
                .append(TrafficBoard.RECENT_SLOTS * view.slotSeconds()).append(" s, from every ai-filter replica</p>");
        versions(html, view);
        chart(html, view);
        tenants(html, view);
        endpoints(html, view);
        nodes(html, nodes, scopes);
        return html.toString();
    }

    private static void versions(StringBuilder html, DashboardView view) {
        html.append("<h2>Models and versions</h2><table id=\"versions\"><tr><th class=\"name\">model</th>"
                + "<th class=\"name\">version</th><th>weight</th><th class=\"name\">rollout</th><th>requests</th><th>req/s</th>"
                + "<th>output tok/s</th><th>TTFT p50</th><th>TTFT p99</th><th>errors</th><th>429 / shed</th></tr>");
        for (DashboardView.VersionRow row : view.versions()) {
            html.append("<tr data-version=\"").append(escape(scoped(row.scope(), row.model()) + "/" + row.version())).append("\">")
                    .append(name(scoped(row.scope(), row.model()))).append(name(row.version()))
                    .append(cell("weight", row.weight() == null ? "" : row.weight() + " %"))
                    .append(name(row.rollout() == null ? "" : row.rollout()))
                    .append(cell("requests", Long.toString(row.requests())))
                    .append(cell("rps", number(row.requestsPerSecond())))
                    .append(cell("tokens-per-second", number(row.outputTokensPerSecond())))
                    .append(cell("ttft-p50", millis(row.ttftP50Millis())))
                    .append(cell("ttft-p99", millis(row.ttftP99Millis())))
                    .append(cell("errors", row.errors(), row.errors() > 0))
                    .append(cell("overloads", row.overloads(), row.overloads() > 0)).append("</tr>");
        }
        html.append("</table>");
    }

    /** Requests per second of each version over the window, one line each. */
    private static void chart(StringBuilder html, DashboardView view) {
        int width = 720;
        int height = 140;
        double top = 1;
        for (DashboardView.VersionRow row : view.versions()) {
            for (double point : row.perSlot()) {
                top = Math.max(top, point);
            }
        }
        html.append("<h2>Requests per second by version, last ").append(Ring.SLOTS * view.slotSeconds() / 60)
                .append(" minutes</h2><svg id=\"chart\" width=\"").append(width).append("\" height=\"").append(height)
                .append("\" viewBox=\"0 0 ").append(width).append(' ').append(height).append("\" role=\"img\">");
        html.append("<text x=\"4\" y=\"12\" font-size=\"10\" fill=\"#6b7280\">").append(number(top)).append("/s</text>");
        StringBuilder legend = new StringBuilder("<p>");
        int i = 0;
        for (DashboardView.VersionRow row : view.versions()) {
            String colour = COLOURS[i++ % COLOURS.length];
            double[] points = row.perSlot();
            StringBuilder line = new StringBuilder();
            for (int p = 0; p < points.length; p++) {
                double x = points.length == 1 ? 0 : p * (width - 1.0) / (points.length - 1);
                double y = height - 2 - points[p] / top * (height - 18);
                line.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
            }
            html.append("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"").append(colour).append("\" points=\"")
                    .append(line.toString().strip()).append("\"/>");
            legend.append("<span style=\"color:").append(colour).append("\">&#9632;</span> ")
                    .append(escape(scoped(row.scope(), row.model()) + "/" + row.version())).append(" &nbsp; ");
        }
        html.append("</svg>").append(legend).append("</p>");
    }

    private static void tenants(StringBuilder html, DashboardView view) {
        html.append("<h2>Tenants</h2><table id=\"tenants\"><tr><th class=\"name\">tenant</th><th class=\"name\">models</th>"
                + "<th>requests</th><th>req/s</th>");
        OUTCOMES.forEach(outcome -> html.append("<th>").append(outcome).append("</th>"));
        html.append("<th>input tokens</th><th>output tokens</th><th class=\"name\">budgets: used of amount, left, resets</th></tr>");
        for (DashboardView.TenantRow row : view.tenants()) {
            String tenant = row.tenant().isEmpty() ? "(no identity)" : row.tenant();
            html.append("<tr data-tenant=\"").append(escape(scoped(row.scope(), tenant))).append("\">")
                    .append(name(scoped(row.scope(), tenant))).append(name(row.models()))
                    .append(cell("requests", Long.toString(row.requests())))
                    .append(cell("rps", number(row.requestsPerSecond())));
            for (String outcome : OUTCOMES) {
                long count = row.outcomes().getOrDefault(outcome, 0L);
                html.append(cell(outcome, count, count > 0 && !outcome.equals("admitted")));
            }
            html.append(cell("input-tokens", Long.toString(row.inputTokens())))
                    .append(cell("output-tokens", Long.toString(row.outputTokens()))).append("<td class=\"name\">");
            for (DashboardView.BudgetRow budget : row.budgets()) {
                boolean money = budget.kind().equals("spend");
                String used = money ? io.aimesh.filter.api.Money.format(budget.used()) : Long.toString(budget.used());
                String amount = money ? io.aimesh.filter.api.Money.format(budget.amount()) : Long.toString(budget.amount());
                String left = money ? io.aimesh.filter.api.Money.format(budget.left()) : Long.toString(budget.left());
                boolean low = budget.left() * 10 < budget.amount();
                html.append("<div data-budget=\"").append(escape(budget.name())).append("\"").append(low ? " class=\"bad\"" : "")
                        .append(">").append(escape(budget.name() + " (" + budget.period() + "): " + used + " of " + amount + ", "
                                + left + " left, resets " + budget.resetsAt())).append("</div>");
            }
            html.append("</td></tr>");
        }
        html.append("</table>");
    }

    private static void endpoints(StringBuilder html, DashboardView view) {
        html.append("<h2>Pools and endpoints</h2><table id=\"endpoints\"><tr><th class=\"name\">pool</th>"
                + "<th class=\"name\">endpoint</th><th>queue</th><th>running</th><th>KV cache</th><th>in flight</th>"
                + "<th>picks</th><th>picks/s</th><th class=\"name\">health</th><th>replicas</th></tr>");
        if (view.endpoints().isEmpty()) {
            html.append("<tr><td class=\"name muted\" colspan=\"10\">no picker pools: Envoy balances every pool"
                    + " (the filter sees endpoints only in pools with balancing: picker)</td></tr>");
        }
        for (DashboardView.EndpointRow row : view.endpoints()) {
            html.append("<tr data-endpoint=\"").append(escape(row.pool() + "/" + row.endpoint())).append("\">")
                    .append(name(scoped(row.scope(), row.pool()))).append(name(row.endpoint()))
                    .append(cell("waiting", number(row.waiting()))).append(cell("running", number(row.running())))
                    .append(cell("kv-cache", Double.isNaN(row.kvCacheUsage()) ? "" : Math.round(row.kvCacheUsage() * 100) + " %"))
                    .append(cell("in-flight", Long.toString(row.inFlight()))).append(cell("picks", Long.toString(row.picks())))
                    .append(cell("picks-per-second", number(row.picksPerSecond())))
                    .append("<td class=\"name ").append(row.healthy() ? "ok" : "bad").append("\" data-field=\"health\">")
                    .append(row.healthy() ? "healthy" : "ejected").append("</td>")
                    .append(cell("replicas", Integer.toString(row.replicas()))).append("</tr>");
        }
        html.append("</table>");
    }

    private static void nodes(StringBuilder html, List<NodeStatus> nodes, Map<String, XdsSnapshot> scopes) {
        html.append("<h2>Nodes</h2><table id=\"nodes\"><tr><th class=\"name\">node</th><th class=\"name\">kind</th>"
                + "<th class=\"name\">scope</th><th class=\"name\">acknowledged</th><th class=\"name\">status</th>"
                + "<th class=\"name\">last rejection</th></tr>");
        for (NodeStatus node : nodes) {
            NodeStatus.Sync sync = node.sync(scopes.get(node.scope()));
            StringBuilder acked = new StringBuilder();
            node.ackedVersions().forEach((type, version) -> acked.append(type).append(' ')
                    .append(version.length() > 8 ? version.substring(0, 8) : version).append(' '));
            html.append("<tr data-node=\"").append(escape(node.nodeId())).append("\">").append(name(node.nodeId()))
                    .append(name(node.kind())).append(name(node.scope().isEmpty() ? "default" : node.scope()))
                    .append(name(acked.toString().strip()))
                    .append("<td class=\"name ").append(sync == NodeStatus.Sync.SYNCED ? "ok" : "bad")
                    .append("\" data-field=\"sync\">").append(sync).append("</td>")
                    .append(name(node.lastNack() == null ? "" : node.lastNack().type() + ": " + node.lastNack().message()))
                    .append("</tr>");
        }
        html.append("</table>");
    }

    private static String scoped(String scope, String name) {
        return scope.isEmpty() ? name : scope + "/" + name;
    }

    private static String name(String text) {
        return "<td class=\"name\">" + escape(text) + "</td>";
    }

    private static String cell(String field, String text) {
        return "<td data-field=\"" + field + "\">" + escape(text) + "</td>";
    }

    private static String cell(String field, long count, boolean bad) {
        return "<td data-field=\"" + field + "\"" + (bad ? " class=\"bad\"" : "") + ">" + count + "</td>";
    }

    private static String number(double value) {
        if (Double.isNaN(value)) {
            return "";
        }
        return value >= 100 ? String.format(Locale.ROOT, "%.0f", value) : String.format(Locale.ROOT, "%.1f", value);
    }

    private static String millis(double value) {
        return Double.isNaN(value) ? "" : String.format(Locale.ROOT, "%.1f ms", value);
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
