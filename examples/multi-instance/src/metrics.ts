import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import type { Hub } from '@sse/core'
import { instrumentSse } from '@sse/otel'
import type { RequestHandler } from 'express'

/**
 * `GET /metrics` in Prometheus' text format: `@sse/otel` records what core reports on its
 * diagnostics channels on an OpenTelemetry SDK whose reader is the Prometheus exporter, served
 * by this app's own server (the exporter's server is not started).
 */
export function prometheusMetrics(hubs: Record<string, Hub>): {
  handler: RequestHandler
  stop(): Promise<void>
} {
  const exporter = new PrometheusExporter({ preventServerStart: true })
  const meterProvider = new MeterProvider({ readers: [exporter] })
  const stopRecording = instrumentSse({ meterProvider, hubs })
  return {
    handler: (req, res) => exporter.getMetricsRequestHandler(req, res),
    async stop() {
      stopRecording()
      await meterProvider.shutdown()
    },
  }
}
