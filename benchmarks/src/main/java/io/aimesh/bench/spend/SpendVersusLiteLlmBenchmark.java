package io.aimesh.bench.spend;

import io.aimesh.bench.LiteLlmProxy;
import io.aimesh.bench.ClosedLoop;
import io.aimesh.bench.FilterStack;
import io.aimesh.filter.api.Money;
import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.testing.Mesh;
import io.aimesh.testing.RedisServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Spend budgets under excess demand, aimesh beside LiteLLM's proxy, in one run on the same
 * model-sims and the same load: how far past its budget each lets a tenant spend, and what each
 * costs a request.
 *
 * <pre>
 * benchmarks/scripts/spend-vs-litellm.sh [--clients 50] [--rounds 3] [--budget 2.00] [--seconds 10] [--report FILE]
 * </pre>
 *
 * <p>Overspend: per round, a fresh budget of {@code budget} (aimesh: a team's monthly budget, the
 * tightest of key, tenant, team and organisation, shared through Redis; LiteLLM: its router's
 * provider budget, shared through a fresh Redis) meets {@code clients} closed-loop clients, half
 * of them streaming, that stop only after three refusals in a row. Spend is summed from the
 * answers' usage at the same prices, not from either gateway's books.
 *
 * <p>Cost per request: the same fixed request, paths taking turns in three slices: model-sim
 * directly, through aimesh (Envoy and the ai-filter, a priced route and a budgeted tenant), and
 * through LiteLLM (a provider budget too high to refuse); latency at 4 clients, throughput at
 * {@code clients}.
 */
public final class SpendVersusLiteLlmBenchmark {
    static final String LITELLM_MASTER_KEY = "sk-bench-master";
    static final Prices PRICES = new Prices(100_000_000, 200_000_000);
    /**
     * The most one replica spends or reserves beyond what Redis has acknowledged
     * (spec.globalLimits.spendLease): requests in flight count, so it must cover the clients'
     * concurrent reservations (50 × about 0.003 here) or the filter refuses some with retry-after.
     */
    static final String LEASE = "0.20";
    private static final String OPEN_KEY = "open-key";
    private static final int LATENCY_CLIENTS = 4;
    private static final int SLICES = 3;
    /** The fixed request of the cost-per-request runs. */
    private static final String BODY = "{\"model\":\"" + SpendRace.MODEL + "\",\"max_tokens\":8,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"What does a budget of money per month mean?\"}]}";

    /** @param seconds the length of each path's latency and throughput runs, split into slices */
    record Options(Path litellm, int clients, int rounds, String budget, int seconds) {
        static Options smoke(Path litellm) {
            return new Options(litellm, 8, 1, "0.20", 2);
        }
    }

    /** One round's overspend figures for one gateway. */
    record Round(String gateway, int round, long budgetMicros, long boundMicros, SpendRace.Result race) {
        long overMicros() {
            return race.spentMicros() - budgetMicros;
        }
    }

    /** One path's cost per request. */
    record PathCost(String path, ClosedLoop.Load latency, ClosedLoop.Load throughput) {
    }

    record Results(Options options, List<Round> rounds, List<PathCost> costs) {
    }

    private SpendVersusLiteLlmBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path litellm = null;
        int clients = 50;
        int rounds = 3;
        String budget = "2.00";
        int seconds = 10;
        Path report = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--litellm" -> litellm = Path.of(args[++i]);
                case "--clients" -> clients = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--budget" -> budget = args[++i];
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--report" -> report = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: SpendVersusLiteLlmBenchmark --litellm PATH [--clients N] [--rounds N] [--budget AMOUNT]"
                            + " [--seconds N] [--report FILE]");
                    System.exit(2);
                }
            }
        }
        if (litellm == null || !Files.isExecutable(litellm)) {
            System.err.println("--litellm: the litellm executable (benchmarks/scripts/spend-vs-litellm.sh installs one)");
            System.exit(2);
        }
        Results results = run(new Options(litellm, clients, rounds, budget, seconds), System.err::println);
        String markdown = markdown(results);
        System.out.print(markdown);
        if (report != null) {
            FilterStack.writeResults(report, markdown);
        }
    }

    static Results run(Options options, Consumer<String> progress) throws Exception {
        Path dir = Files.createTempDirectory("aimesh-spend-vs-litellm-");
        long budget = Money.parseMicros(options.budget());
        List<Round> rounds = new ArrayList<>();
        List<PathCost> costs = new ArrayList<>();
        try (RedisServer redis = RedisServer.start();
             Mesh mesh = Mesh.builder().filter("closed").defaultMaxTokens(64).spendDirectory(dir.resolve("spend"))
                     .gatewaySpec("  globalLimits: {redis: \"" + redis.uri() + "\", spendLease: \"" + LEASE + "\"}")
                     .extraPolicies(policies(options)).start()) {
            String before = mesh.filter().configVersion();
            mesh.writePolicy("routes.yaml", mesh.route(1, -1) + "  pricing: " + PRICES.pricingYaml() + "\n");
            awaitNewConfig(mesh, before);
            URI aimesh = URI.create("http://127.0.0.1:" + mesh.listenerPort() + "/v1/chat/completions");
            List<Integer> simPorts = mesh.sims().stream().map(ModelSimServer::port).toList();
            for (int r = 1; r <= options.rounds(); r++) {
                progress.accept(Instant.now() + " round " + r + ": aimesh");
                rounds.add(new Round("aimesh", r, budget, budget + Math.min(Money.parseMicros(LEASE), budget / 10),
                        SpendRace.run(aimesh, key(r), options.clients(), 1_000L * r, PRICES, Duration.ofMinutes(5))));
                progress.accept(Instant.now() + " round " + r + ": litellm");
                try (RedisServer fresh = RedisServer.start();
                     LiteLlmProxy proxy = LiteLlmProxy.start(options.litellm(), dir.resolve("litellm-" + r),
                             litellmConfig(simPorts, options.budget(), fresh.port()), 1)) {
                    rounds.add(new Round("litellm", r, budget, -1,
                            SpendRace.run(proxy.chatUri(), LITELLM_MASTER_KEY, options.clients(), 1_000L * r, PRICES,
                                    Duration.ofMinutes(5))));
                }
            }
            progress.accept(Instant.now() + " cost per request");
            try (RedisServer fresh = RedisServer.start();
                 LiteLlmProxy proxy = LiteLlmProxy.start(options.litellm(), dir.resolve("litellm-open"),
                         litellmConfig(simPorts, "1000000", fresh.port()), 1)) {
                List<URI> direct = simPorts.stream().map(p -> URI.create("http://127.0.0.1:" + p + "/v1/chat/completions")).toList();
                costs.addAll(costs(options, List.of(new Target("model-sim directly", direct, null),
                        new Target("aimesh (Envoy + ai-filter), budgeted tenant", List.of(aimesh), OPEN_KEY),
                        new Target("aimesh, a tenant without spend budgets", List.of(aimesh), Mesh.GLOBEX_KEY),
                        new Target("LiteLLM proxy", List.of(proxy.chatUri()), LITELLM_MASTER_KEY)), progress));
            }
        }
        return new Results(options, rounds, costs);
    }

    /**
     * LiteLLM's config: the model-sims as deployments of one model at the benchmark's prices, under
     * a provider budget of {@code budget} a day that its router enforces with Redis. One worker, as
     * one ai-filter replica.
     */
    private static String litellmConfig(List<Integer> simPorts, String budget, int redisPort) {
        StringBuilder models = new StringBuilder("model_list:\n");
        for (int simPort : simPorts) {
            models.append(LiteLlmProxy.deployment(SpendRace.MODEL, simPort, List.of("input_cost_per_token: " + PRICES.inputPerToken(),
                    "output_cost_per_token: " + PRICES.outputPerToken())));
        }
        return models + """
                router_settings:
                  redis_host: 127.0.0.1
                  redis_port: %d
                  provider_budget_config:
                    openai: {budget_limit: %s, time_period: 1d}
                general_settings:
                  master_key: %s
                litellm_settings:
                  telemetry: false
                """.formatted(redisPort, budget, LITELLM_MASTER_KEY);
    }

    private static void awaitNewConfig(Mesh mesh, String before) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (mesh.filter().configVersion().equals(before)) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the filter did not take the priced route in 10 s");
            }
            Thread.sleep(20); // a benchmark's setup polling the filter, not a test
        }
    }

    private record Target(String name, List<URI> uris, String apiKey) {
    }

    /** Latency, then throughput, each path taking turns in slices so that drift of the machine falls on all alike. */
    private static List<PathCost> costs(Options options, List<Target> targets, Consumer<String> progress) throws Exception {
        Duration slice = Duration.ofMillis(options.seconds() * 1_000L / SLICES);
        List<ClosedLoop.Load> latency = new ArrayList<>();
        List<ClosedLoop.Load> throughput = new ArrayList<>();
        for (Target target : targets) {
            ClosedLoop.run(target.uris(), target.apiKey(), BODY, LATENCY_CLIENTS, Duration.ofSeconds(1)); // warm-up
        }
        for (int s = 0; s < SLICES; s++) {
            for (int t = 0; t < targets.size(); t++) {
                Target target = targets.get(t);
                progress.accept(Instant.now() + " slice " + (s + 1) + ": " + target.name());
                ClosedLoop.Load few = ClosedLoop.run(target.uris(), target.apiKey(), BODY, LATENCY_CLIENTS, slice);
                ClosedLoop.Load many = ClosedLoop.run(target.uris(), target.apiKey(), BODY, options.clients(), slice);
                if (s == 0) {
                    latency.add(few);
                    throughput.add(many);
                } else {
                    latency.set(t, latency.get(t).plus(few));
                    throughput.set(t, throughput.get(t).plus(many));
                }
            }
        }
        List<PathCost> costs = new ArrayList<>();
        for (int t = 0; t < targets.size(); t++) {
            costs.add(new PathCost(targets.get(t).name(), latency.get(t), throughput.get(t)));
        }
        return costs;
    }

    private static String key(int round) {
        return "spend-key-" + round;
    }

    /** Per round: an organisation, a team (the tightest budget), a tenant and a key, each with a budget; and one open tenant. */
    static String policies(Options options) {
        long budget = Money.parseMicros(options.budget());
        StringBuilder yaml = new StringBuilder();
        for (int r = 1; r <= options.rounds(); r++) {
            yaml.append("""
                    apiVersion: aimesh.io/v1alpha1
                    kind: Organization
                    metadata: {name: org-%1$d}
                    spec:
                      budgets: [{amount: "%2$s", period: month}]
                    ---
                    apiVersion: aimesh.io/v1alpha1
                    kind: Team
                    metadata: {name: team-%1$d}
                    spec:
                      organization: org-%1$d
                      budgets: [{amount: "%3$s", period: month}]
                    ---
                    apiVersion: aimesh.io/v1alpha1
                    kind: Tenant
                    metadata: {name: tenant-%1$d}
                    spec:
                      team: team-%1$d
                      budgets: [{amount: "%4$s", period: 30d}]
                      identity:
                        apiKeys:
                          - sha256: "sha256:%5$s"
                            name: bench
                            budgets: [{amount: "%2$s", period: day}]
                    ---
                    """.formatted(r, Money.format(budget * 4), Money.format(budget), Money.format(budget * 2),
                    Mesh.sha256(key(r))));
        }
        return yaml + """
                apiVersion: aimesh.io/v1alpha1
                kind: Organization
                metadata: {name: open-org}
                spec:
                  budgets: [{amount: "1000000", period: month}]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Team
                metadata: {name: open-team}
                spec:
                  organization: open-org
                  budgets: [{amount: "1000000", period: month}]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: open-tenant}
                spec:
                  team: open-team
                  identity:
                    apiKeys:
                      - sha256: "sha256:%s"
                """.formatted(Mesh.sha256(OPEN_KEY));
    }

    static String markdown(Results results) {
        Options options = results.options();
        StringBuilder md = new StringBuilder("## Results of ").append(java.time.LocalDate.now(java.time.ZoneOffset.UTC))
                .append("\n\n").append(options.clients()).append(" clients (half streaming), a budget of ")
                .append(options.budget()).append(" per round, ").append(options.rounds()).append(" rounds; prices ")
                .append(PRICES.pricingYaml()).append(" per million tokens.\n\n");
        md.append("| gateway | round | spent | over budget | bound | budget used | answers | refusals | errors | seconds |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Round round : results.rounds()) {
            SpendRace.Result race = round.race();
            md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %.1f %% | %d | %d | %d | %.1f |%n", round.gateway(),
                    round.round(), Money.format(race.spentMicros()), Money.format(Math.max(0, round.overMicros())),
                    round.boundMicros() < 0 ? "none" : "+" + Money.format(round.boundMicros() - round.budgetMicros()),
                    100.0 * race.spentMicros() / round.budgetMicros(), race.answers(), race.refusals(), race.errors(),
                    race.seconds()));
        }
        md.append("\n| path | p50 at ").append(LATENCY_CLIENTS).append(" clients | p99 | added p50 | added p99 | req/s at ")
                .append(options.clients()).append(" clients | errors |\n|---|---:|---:|---:|---:|---:|---:|\n");
        ClosedLoop.Load direct = results.costs().get(0).latency();
        for (PathCost cost : results.costs()) {
            ClosedLoop.Load few = cost.latency();
            md.append(String.format(Locale.ROOT, "| %s | %.2f ms | %.2f ms | %s | %s | %.0f | %d |%n", cost.path(),
                    ms(few, 50), ms(few, 99), cost == results.costs().get(0) ? "" : String.format(Locale.ROOT, "%.2f ms",
                            ms(few, 50) - ms(direct, 50)),
                    cost == results.costs().get(0) ? "" : String.format(Locale.ROOT, "%.2f ms", ms(few, 99) - ms(direct, 99)),
                    cost.throughput().perSecond(), few.errors() + cost.throughput().errors()));
        }
        return md.toString();
    }

    private static double ms(ClosedLoop.Load load, double percentile) {
        return load.latency().getValueAtPercentile(percentile) / 1_000.0;
    }
}
