import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import {
  type Attributes,
  context,
  isSpanContextValid,
  type SpanContext,
  SpanKind,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import { type DeliverMessage, type Hub, type PublishMessage, SSE_CHANNELS } from '@sse/core'

/** Options of {@link traceSse}. */
export interface SseTracingOptions {
  /**
   * Where the spans are created.
   * @default the global provider (`trace.getTracerProvider()`): a no-op until an SDK registers one
   */
  tracerProvider?: TracerProvider
  /**
   * Names for hubs, as the `sse.hub` attribute of their spans; other hubs' spans have none.
   * @default {}
   */
  hubs?: Record<string, Hub>
}

/** The instrumentation scope's name: the tracer `traceSse` records with. */
export const TRACER_NAME = '@sse/otel'

/**
 * Records a span for every event published to a hub, and one for every delivery of a traced
 * event, on whichever instance delivers it, until the returned function is called:
 *
 * - `publish <event>` (kind `PRODUCER`), a child of the context active where `hub.publish` was
 *   called (the request that published, for example). Its context (a W3C `traceparent`) is
 *   stored with the event (`PublishMessage.trace`): in `MemoryStore`, and through Redis with
 *   `@sse/redis`.
 * - `deliver <event>` (kind `CONSUMER`), when a hub writes that event to its streams: a child of
 *   the publish span and linked to it, with `sse.streams`, the number of streams written to.
 *   One per event and instance, not per stream.
 *
 * Streams get no span: a stream can stay open for days, and a span must end. Events published
 * while no one traced them get no delivery span. The spans cost nothing while no SDK is
 * registered beyond the channel messages (built only while someone subscribes).
 *
 * @example
 * ```ts
 * import { traceSse } from '@sse/otel'
 *
 * const stop = traceSse({ hubs: { chat: hub } }) // the global TracerProvider
 * ```
 */
export function traceSse(options: SseTracingOptions = {}): () => void {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(TRACER_NAME)
  const names = new WeakMap<Hub, string>()
  for (const [name, hub] of Object.entries(options.hubs ?? {})) names.set(hub, name)
  const of = (hub: Hub, extra: Attributes): Attributes => {
    const name = names.get(hub)
    return name === undefined ? extra : { 'sse.hub': name, ...extra }
  }

  const onPublish = (raw: unknown) => {
    const message = raw as PublishMessage
    const event = message.event ?? 'message'
    const span = tracer.startSpan(`publish ${event}`, {
      kind: SpanKind.PRODUCER,
      attributes: of(message.hub, {
        'messaging.system': 'sse',
        'messaging.operation.type': 'send',
        'sse.event': event,
        'sse.history': message.history,
        'sse.targets': message.targets.length,
      }),
    })
    const spanContext = span.spanContext()
    if (isSpanContextValid(spanContext)) message.trace = traceparent(spanContext)
    span.end()
  }

  const onDeliver = (raw: unknown) => {
    const message = raw as DeliverMessage
    const publish = parseTraceparent(message.event.trace)
    if (publish === undefined) return
    const event = message.event.event ?? 'message'
    const attributes: Attributes = {
      'messaging.system': 'sse',
      'messaging.operation.type': 'process',
      'sse.event': event,
      'sse.streams': message.streams,
    }
    if (message.event.position !== undefined)
      attributes['messaging.message.id'] = message.event.position
    if (message.event.topic !== undefined) attributes['sse.topic'] = message.event.topic
    const span = tracer.startSpan(
      `deliver ${event}`,
      {
        kind: SpanKind.CONSUMER,
        links: [{ context: publish }],
        attributes: of(message.hub, attributes),
      },
      trace.setSpanContext(context.active(), publish),
    )
    span.end()
  }

  subscribe(SSE_CHANNELS.publish, onPublish)
  subscribe(SSE_CHANNELS.deliver, onDeliver)
  let stopped = false
  return () => {
    if (stopped) return
    stopped = true
    unsubscribe(SSE_CHANNELS.publish, onPublish)
    unsubscribe(SSE_CHANNELS.deliver, onDeliver)
  }
}

/** A span context as a W3C `traceparent` (version 00). */
function traceparent({ traceId, spanId, traceFlags }: SpanContext): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The remote span context a `traceparent` names; undefined for anything else. */
function parseTraceparent(value: string | undefined): SpanContext | undefined {
  const match = value === undefined ? null : TRACEPARENT.exec(value)
  if (!match) return undefined
  const spanContext: SpanContext = {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16),
    isRemote: true,
  }
  return isSpanContextValid(spanContext) ? spanContext : undefined
}
