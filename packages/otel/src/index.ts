/**
 * `@sse/otel`: OpenTelemetry metrics and spans for `@sse/core`, from its diagnostics channels.
 * @module
 */
export { instrumentSse, METER_NAME, type SseMetricsOptions } from './metrics'
export { type SseTracingOptions, TRACER_NAME, traceSse } from './tracing'
