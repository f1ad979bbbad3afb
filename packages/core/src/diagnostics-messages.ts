import type { Hub } from './hub'
import type { Target } from './hub-options'
import type { StoredEvent } from './store'
import type { SseStream } from './stream'
import type { CloseReason } from './stream-types'

/**
 * The names of the `diagnostics_channel` channels core publishes on (the convention of undici
 * and Fastify): APM tools and metrics packages subscribe by name, with no dependency on core.
 * Each message type is in {@link SseChannelMessages}. Messages are built only while a channel
 * has subscribers, and are published synchronously where the thing happens.
 *
 * On Node.js 20.16+ (and 22.3+), and on runtimes that implement `process.getBuiltinModule`,
 * these are the runtime's channels; elsewhere (older Node.js, browsers, workers) core publishes
 * nothing.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel'
 * import { SSE_CHANNELS, type StreamCloseMessage } from '@sse/core'
 *
 * const closed = new Map<string, number>()
 * subscribe(SSE_CHANNELS.streamClose, (message) => {
 *   const { reason } = message as StreamCloseMessage
 *   closed.set(reason, (closed.get(reason) ?? 0) + 1)
 * })
 * ```
 */
export const SSE_CHANNELS = {
  /** A stream was opened (admitted, on a hub or not): {@link StreamOpenMessage}. */
  streamOpen: 'sse:stream:open',
  /** A stream ended: {@link StreamCloseMessage}. */
  streamClose: 'sse:stream:close',
  /** A resuming stream's replay is out and it went live: {@link ReplayMessage}. */
  replay: 'sse:stream:replay',
  /** A stream is being ended as a slow consumer: {@link SlowConsumerMessage}. */
  slowConsumer: 'sse:stream:slow-consumer',
  /** A hub handed a published event to its store: {@link PublishMessage}. */
  publish: 'sse:hub:publish',
  /** A hub wrote a live event to its streams: {@link DeliverMessage}. */
  deliver: 'sse:hub:deliver',
  /** A hub refused a stream over one of its limits: {@link LimitMessage}. */
  limit: 'sse:hub:limit',
  /** A hub's store failed: {@link StoreErrorMessage}. */
  storeError: 'sse:store:error',
  /** A store's live feed skipped events of a log: {@link FeedGapMessage}. */
  feedGap: 'sse:store:gap',
} as const

/** The message of `sse:stream:open`. */
export interface StreamOpenMessage {
  /** The stream, as the application and adapters see it. */
  readonly stream: SseStream
  /** The hub it joined; undefined for a stream opened without one. */
  readonly hub: Hub | undefined
  /** The topics it follows (empty without a hub). */
  readonly topics: readonly string[]
  /** Its key, if any. */
  readonly key: string | undefined
  /** True when the client sent a cursor (usable or not): the hub replays what it missed. */
  readonly resuming: boolean
}

/**
 * The message of `sse:stream:close`: once for every stream opened while this channel or
 * `sse:stream:open` had a subscriber, so opens and closes pair up.
 */
export interface StreamCloseMessage {
  /** The stream that ended (the one its `sse:stream:open` named). */
  readonly stream: SseStream
  /** The hub it had joined; undefined for a stream opened without one. */
  readonly hub: Hub | undefined
  /** Why it ended, as `stream.closeReason` says. */
  readonly reason: CloseReason
}

/** The message of `sse:stream:replay`: a resuming stream caught up and went live. */
export interface ReplayMessage {
  /** The stream that caught up. */
  readonly stream: SseStream
  /** The hub that replayed to it. */
  readonly hub: Hub
  /** `'lost'` when some of its history was gone (the `SSE-Replay` header's value). */
  readonly outcome: 'complete' | 'lost'
  /** The targets whose history it lost (empty when complete), as `history-lost` lists them. */
  readonly lost: readonly Target[]
  /** The stored events read for it (live events held back meanwhile are not counted). */
  readonly replayed: number
  /** Milliseconds from the stream's open to the end of its replay (store reads included). */
  readonly durationMs: number
}

/**
 * The message of `sse:stream:slow-consumer`, published just before the stream ends with
 * `closeReason === 'slow-consumer'` (its `sse:stream:close` follows at once and names its hub).
 */
export interface SlowConsumerMessage {
  /** The stream being ended. */
  readonly stream: SseStream
  /** Bytes queued for the client (over `maxBufferedBytes` when that is the cause). */
  readonly bufferedBytes: number
  /** Live events held back behind its replay (over 10,000 when that is the cause), else 0. */
  readonly heldEvents: number
}

/** The message of `sse:hub:publish`: an event passed validation and goes to the store. */
export interface PublishMessage {
  /** The hub `publish` was called on. */
  readonly hub: Hub
  /** The event name; undefined for an unnamed (`message`) event. */
  readonly event: string | undefined
  /** One per log it is stored in (a topic each, else the key, else everyone: `{}`). */
  readonly targets: readonly Target[]
  /** False for `history: false`: delivered live, never kept. */
  readonly history: boolean
  /**
   * A trace context for this publish, set by a subscriber while it handles the message (a W3C
   * `traceparent`, as `@sse/otel` sets it). The store keeps it with the event, and every
   * hub that delivers the event, on any instance, reports it as `DeliverMessage.event.trace`,
   * so a delivery can link to its publish. Kept only when it is a string of at most 512
   * printable ASCII characters; anything else is ignored.
   * @default undefined
   */
  trace: string | undefined
}

/**
 * The message of `sse:hub:deliver`: once per live event a hub routes (not once per stream, so
 * a subscriber costs one call per event whatever the number of streams).
 */
export interface DeliverMessage {
  /** The hub whose streams got the event. */
  readonly hub: Hub
  /** The event as the store fed it (`position` undefined for `history: false`). */
  readonly event: StoredEvent
  /** The streams it was written to (0 when every stream of its log was held back or filtered). */
  readonly streams: number
}

/** The message of `sse:hub:limit`: a stream was refused (it ends with reason `'limit'`). */
export interface LimitMessage {
  /** The hub that refused the stream. */
  readonly hub: Hub
  /** The limit it was over. */
  readonly limit: 'maxStreams' | 'maxStreamsPerClient'
  /** Who asked (`clientId`, else `key`). */
  readonly clientId: string | undefined
  /** How it was refused: the hub's `limitResponse`. */
  readonly response: 'retry' | 429 | 503
}

/**
 * The message of `sse:store:error`: a store call failed. The error also goes to the hub's
 * `onError` (a publish's also rejects its promise).
 */
export interface StoreErrorMessage {
  /** The hub whose store failed. */
  readonly hub: Hub
  /** What the store threw or rejected with. */
  readonly error: unknown
  /**
   * What the hub was doing: storing a publish, reading where an opening stream starts (a new
   * stream ends with reason `'error'`), or following the logs of a `hub.watch`.
   */
  readonly operation: 'publish' | 'open' | 'watch'
}

/**
 * The message of `sse:store:gap`: the store's live feed skipped events of a log (its `onGap`);
 * the streams that follow it end with reason `'resync'` and resume from the store.
 */
export interface FeedGapMessage {
  /** The hub whose store reported the gap. */
  readonly hub: Hub
  /** Whose events the log keeps (`{}`: the hub-wide log). */
  readonly target: Target
  /** How many streams it ended. */
  readonly streams: number
}

/** The message type of each channel of {@link SSE_CHANNELS}, by name. */
export interface SseChannelMessages {
  /** `SSE_CHANNELS.streamOpen` */
  'sse:stream:open': StreamOpenMessage
  /** `SSE_CHANNELS.streamClose` */
  'sse:stream:close': StreamCloseMessage
  /** `SSE_CHANNELS.replay` */
  'sse:stream:replay': ReplayMessage
  /** `SSE_CHANNELS.slowConsumer` */
  'sse:stream:slow-consumer': SlowConsumerMessage
  /** `SSE_CHANNELS.publish` */
  'sse:hub:publish': PublishMessage
  /** `SSE_CHANNELS.deliver` */
  'sse:hub:deliver': DeliverMessage
  /** `SSE_CHANNELS.limit` */
  'sse:hub:limit': LimitMessage
  /** `SSE_CHANNELS.storeError` */
  'sse:store:error': StoreErrorMessage
  /** `SSE_CHANNELS.feedGap` */
  'sse:store:gap': FeedGapMessage
}
