import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { type Attributes, type MeterProvider, metrics } from '@opentelemetry/api'
import {
  type DeliverMessage,
  type FeedGapMessage,
  type Hub,
  type LimitMessage,
  type PublishMessage,
  type ReplayMessage,
  SSE_CHANNELS,
  type SseStream,
  type StoreErrorMessage,
  type StreamCloseMessage,
  type StreamOpenMessage,
} from '@sse/core'

/** Options of {@link instrumentSse}. */
export interface SseMetricsOptions {
  /**
   * Where the instruments are created.
   * @default the global provider (`metrics.getMeterProvider()`): a no-op until an SDK registers one
   */
  meterProvider?: MeterProvider
  /**
   * Names for hubs, as the `sse.hub` attribute of their streams' and events' measurements;
   * measurements of other hubs (and of streams without one) have no `sse.hub`.
   * @default {}
   */
  hubs?: Record<string, Hub>
}

/** The instrumentation scope's name: the meter `instrumentSse` records with. */
export const METER_NAME = '@sse/otel'

/**
 * Records what `@sse/core` reports on its diagnostics channels as OpenTelemetry metrics, for
 * every hub and stream of the process, until the returned function is called:
 *
 * - `sse.streams.active` (up-down counter): streams open now (opened while instrumented);
 * - `sse.streams.opened` (counter, `sse.resuming`) and `sse.streams.closed` (`sse.close_reason`);
 * - `sse.events.published` (`sse.history`) and `sse.events.delivered` (one per stream written to);
 * - `sse.replays` (`sse.replay.outcome`: `complete` or `lost`) and `sse.replay.duration`
 *   (histogram, ms, from the stream's open to the end of its replay);
 * - `sse.slow_consumers`, `sse.limit.refusals` (`sse.limit`), `sse.store.errors`
 *   (`sse.store.operation`), `sse.feed.gaps`.
 *
 * Streams get no span (a stream can stay open for days); nothing is recorded while no SDK is
 * registered beyond the channel messages core builds only while someone listens.
 *
 * @example
 * ```ts
 * import { instrumentSse } from '@sse/otel'
 *
 * const stop = instrumentSse({ hubs: { chat: hub } }) // the global MeterProvider
 * ```
 */
export function instrumentSse(options: SseMetricsOptions = {}): () => void {
  const provider = options.meterProvider ?? metrics.getMeterProvider()
  const meter = provider.getMeter(METER_NAME)
  const names = new WeakMap<Hub, string>()
  for (const [name, hub] of Object.entries(options.hubs ?? {})) names.set(hub, name)
  const of = (hub: Hub | undefined, extra: Attributes = {}): Attributes => {
    const name = hub && names.get(hub)
    return name === undefined ? extra : { 'sse.hub': name, ...extra }
  }
  const count = (name: string, unit: string, description: string) =>
    meter.createCounter(name, { description, unit })

  const active = meter.createUpDownCounter('sse.streams.active', {
    description: 'Streams open now (opened while instrumented)',
    unit: '{stream}',
  })
  const opened = count('sse.streams.opened', '{stream}', 'Streams opened')
  const closed = count('sse.streams.closed', '{stream}', 'Streams ended, by reason')
  const published = count('sse.events.published', '{event}', 'Events published to a hub')
  const delivered = count(
    'sse.events.delivered',
    '{event}',
    'Live events written to streams, one per stream',
  )
  const replays = count(
    'sse.replays',
    '{replay}',
    'Resumed streams whose replay is out, by outcome',
  )
  const replayTime = meter.createHistogram('sse.replay.duration', {
    description: "From a resuming stream's open to the end of its replay",
    unit: 'ms',
  })
  const slow = count('sse.slow_consumers', '{stream}', 'Streams ended as slow consumers')
  const refusals = count('sse.limit.refusals', '{stream}', "Streams refused over a hub's limits")
  const storeErrors = count('sse.store.errors', '{error}', "Failures of a hub's store")
  const gaps = count('sse.feed.gaps', '{gap}', "Gaps in a store's live feed")

  // Only streams seen opening are counted down, so `active` never goes below zero.
  const counted = new WeakMap<SseStream, Attributes>()
  const handlers: Record<string, (message: never) => void> = {
    [SSE_CHANNELS.streamOpen]: (m: StreamOpenMessage) => {
      const attributes = of(m.hub)
      counted.set(m.stream, attributes)
      active.add(1, attributes)
      opened.add(1, of(m.hub, { 'sse.resuming': m.resuming }))
    },
    [SSE_CHANNELS.streamClose]: (m: StreamCloseMessage) => {
      const attributes = counted.get(m.stream)
      if (attributes) active.add(-1, attributes)
      counted.delete(m.stream)
      closed.add(1, of(m.hub, { 'sse.close_reason': m.reason }))
    },
    [SSE_CHANNELS.publish]: (m: PublishMessage) =>
      published.add(1, of(m.hub, { 'sse.history': m.history })),
    [SSE_CHANNELS.deliver]: (m: DeliverMessage) => {
      if (m.streams > 0) delivered.add(m.streams, of(m.hub))
    },
    [SSE_CHANNELS.replay]: (m: ReplayMessage) => {
      replays.add(1, of(m.hub, { 'sse.replay.outcome': m.outcome }))
      replayTime.record(m.durationMs, of(m.hub, { 'sse.replay.outcome': m.outcome }))
    },
    [SSE_CHANNELS.slowConsumer]: () => slow.add(1),
    [SSE_CHANNELS.limit]: (m: LimitMessage) => refusals.add(1, of(m.hub, { 'sse.limit': m.limit })),
    [SSE_CHANNELS.storeError]: (m: StoreErrorMessage) =>
      storeErrors.add(1, of(m.hub, { 'sse.store.operation': m.operation })),
    [SSE_CHANNELS.feedGap]: (m: FeedGapMessage) => gaps.add(1, of(m.hub)),
  }
  const listeners = Object.entries(handlers).map(([channel, handler]) => {
    const listener = (message: unknown) => handler(message as never)
    subscribe(channel, listener)
    return [channel, listener] as const
  })
  let stopped = false
  return () => {
    if (stopped) return
    stopped = true
    for (const [channel, listener] of listeners) unsubscribe(channel, listener)
  }
}
