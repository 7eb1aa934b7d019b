package io.aimesh.filter.config;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.Money;
import io.aimesh.filter.api.Model;
import io.aimesh.filter.api.SpendBudget;
import io.aimesh.filter.api.Version;
import io.aimesh.filter.spend.Level;
import io.aimesh.filter.spend.Period;
import io.aimesh.filter.spend.SpendRule;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The spend half of the filter's configuration: what each model version's tokens cost, and the
 * budgets of every account, resolved into the chain a request must fit (its key's, its tenant's,
 * its team's, its organisation's). Immutable; built once per config version.
 */
public final class SpendPlan {
    /**
     * What tokens cost, in micro-units per million.
     *
     * @param inputMicros per million prompt tokens not served from cache
     * @param cachedInputMicros per million cached prompt tokens
     * @param outputMicros per million output tokens
     */
    public record Price(long inputMicros, long cachedInputMicros, long outputMicros) {
        /** Costs nothing. */
        public static final Price FREE = new Price(0, 0, 0);

        /** The cost of {@code prompt} tokens ({@code cached} of them from cache) and {@code output} tokens, rounded up. */
        public long cost(long prompt, long cached, long output) {
            long fresh = Math.max(0, prompt - cached);
            return saturatedSum(Money.cost(fresh, inputMicros), Money.cost(Math.min(cached, prompt), cachedInputMicros),
                    Money.cost(output, outputMicros));
        }

        /** Whether any token costs something. */
        public boolean priced() {
            return inputMicros > 0 || cachedInputMicros > 0 || outputMicros > 0;
        }

        private static Price max(Price a, Price b) {
            return new Price(Math.max(a.inputMicros, b.inputMicros), Math.max(a.cachedInputMicros, b.cachedInputMicros),
                    Math.max(a.outputMicros, b.outputMicros));
        }

        private static long saturatedSum(long a, long b, long c) {
            long sum = a + b;
            sum = sum < 0 ? Long.MAX_VALUE : sum + c;
            return sum < 0 ? Long.MAX_VALUE : sum;
        }
    }

    /**
     * An account of the hierarchy, for reports: its level, name, parent ({@code null} at the top)
     * and budgets.
     */
    public record Account(Level level, String name, String parent, List<SpendRule> rules) {
        public Account {
            rules = List.copyOf(rules);
        }
    }

    private static final SpendPlan EMPTY = new SpendPlan("USD", Map.of(), Map.of(), Map.of(), Map.of(), List.of());

    private final String currency;
    /** By model: the route's price and each version's. */
    private final Map<String, Price> modelPrices;
    private final Map<String, Map<String, Price>> versionPrices;
    /** Each tenant's chain without a key: its own budgets, its team's, its organisation's. */
    private final Map<String, List<SpendRule>> tenantChains;
    /** Each budgeted key's own budgets, by digest. */
    private final Map<String, List<SpendRule>> keyRules;
    private final List<Account> accounts;

    private SpendPlan(String currency, Map<String, Price> modelPrices, Map<String, Map<String, Price>> versionPrices,
                      Map<String, List<SpendRule>> tenantChains, Map<String, List<SpendRule>> keyRules, List<Account> accounts) {
        this.currency = currency;
        this.modelPrices = modelPrices;
        this.versionPrices = versionPrices;
        this.tenantChains = tenantChains;
        this.keyRules = keyRules;
        this.accounts = accounts;
    }

    /** No prices, no budgets. */
    public static SpendPlan empty() {
        return EMPTY;
    }

    static SpendPlan compile(FilterConfig config) throws InvalidConfigException {
        Map<String, Price> modelPrices = new HashMap<>();
        Map<String, Map<String, Price>> versionPrices = new HashMap<>();
        for (Model model : config.getModelsList()) {
            Price route = model.hasPricing() ? price(model.getPricing()) : Price.FREE;
            modelPrices.put(model.getName(), route);
            Map<String, Price> versions = new HashMap<>();
            for (Version version : model.getVersionsList()) {
                versions.put(version.getName(), version.hasPricing() ? price(version.getPricing()) : route);
            }
            versionPrices.put(model.getName(), Map.copyOf(versions));
        }
        List<Account> accounts = new ArrayList<>();
        Map<String, List<SpendRule>> orgRules = new HashMap<>();
        for (io.aimesh.filter.api.Organization org : config.getOrganizationsList()) {
            List<SpendRule> rules = rules(Level.ORGANIZATION, org.getName(), org.getBudgetsList());
            orgRules.put(org.getName(), rules);
            accounts.add(new Account(Level.ORGANIZATION, org.getName(), null, rules));
        }
        Map<String, List<SpendRule>> teamChains = new HashMap<>();
        for (io.aimesh.filter.api.Team team : config.getTeamsList()) {
            List<SpendRule> rules = rules(Level.TEAM, team.getName(), team.getBudgetsList());
            String org = team.getOrganization().isEmpty() ? null : team.getOrganization();
            if (org != null && !orgRules.containsKey(org)) {
                throw new InvalidConfigException("team " + team.getName() + ": unknown organization '" + org + "'");
            }
            List<SpendRule> chain = new ArrayList<>(rules);
            chain.addAll(org == null ? List.of() : orgRules.get(org));
            teamChains.put(team.getName(), List.copyOf(chain));
            accounts.add(new Account(Level.TEAM, team.getName(), org, rules));
        }
        Map<String, List<SpendRule>> tenantChains = new HashMap<>();
        Map<String, List<SpendRule>> keyRules = new HashMap<>();
        for (io.aimesh.filter.api.Tenant tenant : config.getTenantsList()) {
            List<SpendRule> rules = rules(Level.TENANT, tenant.getName(), tenant.getBudgetsList());
            String team = tenant.getTeam().isEmpty() ? null : tenant.getTeam();
            if (team != null && !teamChains.containsKey(team)) {
                throw new InvalidConfigException("tenant " + tenant.getName() + ": unknown team '" + team + "'");
            }
            List<SpendRule> chain = new ArrayList<>(rules);
            chain.addAll(team == null ? List.of() : teamChains.get(team));
            tenantChains.put(tenant.getName(), List.copyOf(chain));
            accounts.add(new Account(Level.TENANT, tenant.getName(), team, rules));
            for (io.aimesh.filter.api.KeyBudgets key : tenant.getKeyBudgetsList()) {
                if (!tenant.getApiKeySha256List().contains(key.getApiKeySha256())) {
                    throw new InvalidConfigException("tenant " + tenant.getName() + ": key budgets " + key.getName()
                            + " for a key it does not have");
                }
                // A key's account is named within its tenant: two tenants may both have a key called "ci".
                String name = tenant.getName() + "." + key.getName();
                List<SpendRule> ownRules = rules(Level.KEY, name, key.getBudgetsList());
                keyRules.put(key.getApiKeySha256(), ownRules);
                accounts.add(new Account(Level.KEY, name, tenant.getName(), ownRules));
            }
        }
        String currency = config.getSettings().getCurrency().isEmpty() ? "USD" : config.getSettings().getCurrency();
        return new SpendPlan(currency, Map.copyOf(modelPrices), Map.copyOf(versionPrices), Map.copyOf(tenantChains),
                Map.copyOf(keyRules), List.copyOf(accounts));
    }

    private static Price price(io.aimesh.filter.api.Pricing pricing) {
        return new Price(pricing.getInputMicros(), pricing.getCachedInputMicros(), pricing.getOutputMicros());
    }

    private static List<SpendRule> rules(Level level, String account, List<SpendBudget> budgets) throws InvalidConfigException {
        Map<String, SpendRule> rules = new LinkedHashMap<>();
        for (SpendBudget budget : budgets) {
            ZoneId zone;
            try {
                zone = ZoneId.of(budget.getTimeZone().isEmpty() ? "UTC" : budget.getTimeZone());
            } catch (DateTimeException e) {
                throw new InvalidConfigException(level.label() + " " + account + ": unknown time zone '" + budget.getTimeZone() + "'");
            }
            if (budget.getAmountMicros() <= 0) {
                throw new InvalidConfigException(level.label() + " " + account + ": a budget of " + budget.getAmountMicros());
            }
            Period period = switch (budget.getPeriod()) {
                case SPEND_PERIOD_DAY -> Period.DAY;
                case SPEND_PERIOD_WEEK -> Period.WEEK;
                case SPEND_PERIOD_MONTH -> Period.MONTH;
                case SPEND_PERIOD_ROLLING_30D -> Period.ROLLING_30D;
                default -> throw new InvalidConfigException(level.label() + " " + account + ": unknown period " + budget.getPeriod());
            };
            String key = SpendRule.key(level, account, period, zone);
            for (int n = 2; rules.containsKey(key); n++) {
                key = SpendRule.key(level, account, period, zone) + "~" + n;
            }
            rules.put(key, new SpendRule(level, account, key, budget.getAmountMicros(), period, zone,
                    budget.getAlertPercentsList().stream().map(Integer::valueOf).toList()));
        }
        return List.copyOf(rules.values());
    }

    /** The ISO 4217 code of every amount. */
    public String currency() {
        return currency;
    }

    /** Whether any budget exists: without one, nothing is priced or charged. */
    public boolean budgeted() {
        return accounts.stream().anyMatch(a -> !a.rules().isEmpty());
    }

    /**
     * The budgets a request of {@code tenant} made with the key of digest {@code keyDigest}
     * ({@code null} when not by API key) must fit, narrowest first; empty for none.
     */
    public List<SpendRule> chain(String tenant, String keyDigest) {
        List<SpendRule> tenantChain = tenantChains.getOrDefault(tenant, List.of());
        List<SpendRule> key = keyDigest == null ? null : keyRules.get(keyDigest);
        if (key == null) {
            return tenantChain;
        }
        List<SpendRule> chain = new ArrayList<>(key);
        chain.addAll(tenantChain);
        return chain;
    }

    /** The price of {@code model}'s {@code version} ({@code null}: the route's own). */
    public Price price(String model, String version) {
        if (version != null) {
            Price price = versionPrices.getOrDefault(model, Map.of()).get(version);
            if (price != null) {
                return price;
            }
        }
        return modelPrices.getOrDefault(model, Price.FREE);
    }

    /** The highest price of each kind among {@code model}'s route and versions: what a reservation is made at. */
    public Price reservationPrice(String model) {
        Price price = modelPrices.getOrDefault(model, Price.FREE);
        for (Price version : versionPrices.getOrDefault(model, Map.of()).values()) {
            price = Price.max(price, version);
        }
        return price;
    }

    /** Every account, organisations first. */
    public List<Account> accounts() {
        return accounts;
    }
}
