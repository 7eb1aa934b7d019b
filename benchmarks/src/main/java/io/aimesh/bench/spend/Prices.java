package io.aimesh.bench.spend;

import io.aimesh.filter.api.Money;
import java.math.BigDecimal;

/**
 * The model's prices, the same for both gateways: aimesh's {@code pricing} is per million tokens,
 * LiteLLM's per token; a request's cost is computed here from the usage its answer reports.
 *
 * @param inputPerMillion micro-units per million prompt tokens
 * @param outputPerMillion micro-units per million completion tokens
 */
record Prices(long inputPerMillion, long outputPerMillion) {

    /** The route's {@code pricing} mapping, for aimesh's policies. */
    String pricingYaml() {
        return "{input: \"" + Money.format(inputPerMillion) + "\", output: \"" + Money.format(outputPerMillion) + "\"}";
    }

    String inputPerToken() {
        return perToken(inputPerMillion);
    }

    String outputPerToken() {
        return perToken(outputPerMillion);
    }

    /** What an answer with this usage costs, in micro-units. */
    long cost(long promptTokens, long completionTokens) {
        return Money.cost(promptTokens, inputPerMillion) + Money.cost(completionTokens, outputPerMillion);
    }

    private static String perToken(long microsPerMillion) {
        return BigDecimal.valueOf(microsPerMillion).movePointLeft(12).stripTrailingZeros().toPlainString();
    }
}
