package io.aimesh.xds.dashboard;

import java.util.List;
import java.util.Map;

/**
 * What the dashboard shows at one moment: the traffic per model version, per tenant and per
 * endpoint, added up over every ai-filter replica ({@link TrafficBoard}). Counts are over the
 * retained window ({@value Ring#SLOTS} slots of {@code slotSeconds}); rates and percentiles over
 * the last minute.
 */
public record DashboardView(String at, int slotSeconds, List<VersionRow> versions, List<TenantRow> tenants,
                            List<EndpointRow> endpoints) {

    /**
     * @param weight the version's share of new requests now (a rollout's when one runs), or null when unknown
     * @param rollout the model's rollout state, or null without one
     * @param requests requests that ended, over the window
     * @param ttftP50Millis NaN without samples in the last minute
     * @param overloads 429s from the model server and requests shed because the version's pool was saturated
     * @param perSlot requests per second in each slot of the window, oldest first
     */
    public record VersionRow(String scope, String model, String version, Integer weight, String rollout, long requests,
                             double requestsPerSecond, double outputTokensPerSecond, double ttftP50Millis,
                             double ttftP99Millis, long errors, long overloads, double[] perSlot) {
    }

    /**
     * @param tenant empty for requests no identity matched
     * @param outcomes requests by outcome (admitted, limited, denied, shed, error) over the window
     * @param budgets the tenant's token limits and spend budgets, as the replicas last reported them
     */
    public record TenantRow(String scope, String tenant, String models, long requests, double requestsPerSecond,
                            Map<String, Long> outcomes, long inputTokens, long outputTokens, List<BudgetRow> budgets) {
    }

    /**
     * @param kind {@code limit} (tokens) or {@code spend} (micro-units of the currency)
     * @param name the limit's id, or the budget's level and account
     * @param period the limit's window or the budget's period
     * @param resetsAt when the window or period ends (ISO-8601)
     */
    public record BudgetRow(String kind, String name, String period, long used, long amount, String resetsAt) {
        public long left() {
            return Math.max(0, amount - used);
        }
    }

    /**
     * @param waiting the model server's queue as last scraped (NaN before a scrape)
     * @param inFlight requests in flight from every reporting replica
     * @param replicas the filter replicas that reported the endpoint in the last seconds
     */
    public record EndpointRow(String scope, String pool, String endpoint, double waiting, double running,
                              double kvCacheUsage, long inFlight, long picks, double picksPerSecond, boolean healthy,
                              int replicas) {
    }
}
