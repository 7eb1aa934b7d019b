/**
 * GPU-load-aware endpoint picking for inference pools: which model server of a pool should serve a
 * request, from each server's live load and the request's prompt and LoRA adapter.
 *
 * <p>The ext_proc path uses four types: a {@link io.aimesh.picker.PoolMonitor} per pool, which
 * scrapes the pool's vLLM metrics and counts the requests in flight; a
 * {@link io.aimesh.picker.Picker} per pool, whose {@code pick(monitor.state(), features)}
 * answers with a {@link io.aimesh.picker.Pick}; and the monitor's request-path hooks
 * {@code started}, {@code firstToken} and {@code finished}. The rest are values: endpoints, the
 * scraped {@link io.aimesh.picker.EndpointState}, and the configuration records
 * {@link io.aimesh.picker.MonitorOptions}, {@link io.aimesh.picker.ScorerWeights} and
 * {@link io.aimesh.picker.Thresholds}.
 *
 * <p>Package-private, one role each: {@code VllmMetricsParser} reads a scrape into
 * {@code VllmMetrics}; {@code EndpointLoad} holds the filter's own counts; {@code PoolMember} ties an
 * endpoint to both; {@code PrefixIndex} remembers where prompt prefixes were served;
 * {@code CappedBody} bounds a scrape's body.
 */
package io.aimesh.picker;
