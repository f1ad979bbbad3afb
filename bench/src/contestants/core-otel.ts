// @sse/core on node:http, instrumented: @sse/otel's metrics and spans on the OpenTelemetry SDK
// (a MeterProvider with a reader, a tracer provider sampling every span into a processor that
// drops them), so every channel message is turned into measurements and spans as in production,
// without the cost of an exporter.
import { createServer } from 'node:http'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { openNodeStream } from '@sse/core/node'
import { instrumentSse, traceSse } from '@sse/otel'
import type { StartContestant } from '../protocol.ts'
import { benchHub } from './hub.ts'
import { listen } from './listen.ts'

/** A reader nobody collects from: the SDK still aggregates every measurement. */
class IdleReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const start: StartContestant = async () => {
  const hub = benchHub()
  instrumentSse({
    meterProvider: new MeterProvider({ readers: [new IdleReader()] }),
    hubs: { hub },
  })
  traceSse({
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] }),
    hubs: { hub },
  })
  const server = createServer((req, res) => {
    openNodeStream(req, res, { hub })
  })
  return listen(server, (data) => hub.publish({ data }))
}
export default start
