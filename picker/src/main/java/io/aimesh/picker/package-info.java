/**
 * GPU-load-aware endpoint picking for inference pools: which model server of a pool should serve a
 * request, from each server's live load and the request's prompt and LoRA adapter.
 *
 * <p>The ai-filter uses {@link io.aimesh.picker.PoolPickers}, which keeps a
 * {@link io.aimesh.picker.PoolPicker} per pool in step with its configuration: a
 * {@link io.aimesh.picker.PoolMonitor} that scrapes the pool's vLLM metrics and counts the requests
 * in flight, joined to a {@link io.aimesh.picker.Picker} that answers each request with a
 * {@link io.aimesh.picker.Pick}; a request sent to the pick is then followed by its
 * {@link io.aimesh.picker.InFlight}. The control plane uses the monitor alone (EDS weights).
 * The rest are values: endpoints, the
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
