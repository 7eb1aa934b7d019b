/**
 * model-sim: a simulated OpenAI-compatible LLM inference server for demos, end-to-end tests through
 * Envoy, and routing benchmarks.
 *
 * <p>Public API: {@link io.aimesh.modelsim.ModelSimConfig} (built by
 * {@link io.aimesh.modelsim.ModelSimConfigBuilder}) and {@link io.aimesh.modelsim.ModelSimServer}.
 * Inside, the simulated GPU knows nothing of HTTP: {@code InferenceEngine} schedules
 * {@code Sequence}s in continuous batches timed by a {@code GpuProfile} and reports to
 * {@code VllmMetrics}. The HTTP side, {@code ApiRouter} and {@code CompletionHandler}, parses requests
 * ({@code CompletionRequestParser}), draws each request's seeded fate ({@code OutcomeSampler},
 * {@code PseudoText}) and writes OpenAI wire shapes ({@code CompletionFormat}, {@code ApiError}).
 */
package io.aimesh.modelsim;
