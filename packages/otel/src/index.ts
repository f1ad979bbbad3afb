/**
 * `@sse/otel`: OpenTelemetry metrics for `@sse/core`, from its diagnostics channels.
 * @module
 */
export { instrumentSse, METER_NAME, type SseMetricsOptions } from './metrics'
