import type { StreamOptions } from './options'
import type { EventStore } from './store'
import type { EventArgs, EventMap, SseMessage } from './types'

/** Options of {@link createHub}: the store, limits, and defaults for every stream opened with the hub. */
export interface HubOptions extends StreamOptions {
  /**
   * Keeps history for resume and feeds live events.
   * @default new MemoryStore()
   */
  store?: EventStore
  /**
   * The largest event `publish` accepts, in UTF-8 bytes of data; larger ones reject with a
   * RangeError.
   * @default 262144 (256 KiB)
   */
  maxEventBytes?: number
  /**
   * Hears every failure the hub cannot throw to a caller: a publish that failed (whether or not
   * its promise is awaited), the store failing while a stream opens (that client is told to
   * come back later), a live-feed error.
   * @default logs with console.error
   */
  onError?: (error: unknown) => void
  /**
   * The most streams open at once on this hub. Streams asked for beyond it are refused the way
   * `limitResponse` says.
   * @default Infinity
   */
  maxStreams?: number
  /**
   * The most streams open at once per client (`clientId`, else `key`: a user's tabs, or one
   * address). Streams with neither are not counted.
   * @default Infinity
   */
  maxStreamsPerClient?: number
  /**
   * How a stream over a limit is refused. `'retry'` answers `200` with a jittered `retry:` and
   * `Retry-After`, then ends: a browser's EventSource comes back by itself after that delay.
   * `429` or `503` answer with a JSON error and `Retry-After`: clients that read it wait and
   * retry, but a browser's EventSource treats any non-200 as final and stops (C06).
   * @default 'retry'
   */
  limitResponse?: 'retry' | 429 | 503
}

/**
 * Whose events: a topic's, a key's, or (with neither) everyone's. The `history-lost` event lists
 * the targets whose history a resuming client lost.
 */
export interface Target {
  /** Events published to this topic. */
  topic?: string
  /** Events published to this key (for example a user id). */
  key?: string
}

/** Who receives a published event, and whether it is kept for resume. */
export interface PublishOptions {
  /**
   * Streams that follow this topic, or any of these topics (the event is stored once per topic,
   * in each topic's history). Without a topic (and without a key), every stream of the hub.
   */
  topic?: string | readonly string[]
  /** Streams opened with this key (for example a user id); combined with `topic`, both must match. */
  key?: string
  /**
   * Whether the event is kept for resume. `false` sends it live only, without an `id` (so the
   * client's cursor stays where it was), for ephemeral events such as typing indicators.
   * @default true
   */
  history?: boolean
}

/**
 * The arguments of {@link Hub.publish}: `(event, data, options?)` with data typed by the event
 * map (optional when it allows `undefined`), or `(message, options?)`. A union of tuples keeps
 * `Hub<Events>` assignable to `Hub`.
 */
export type PublishArgs<M extends EventMap> =
  | EventArgs<M, [options?: PublishOptions]>
  | [message: SseMessage<M>, options?: PublishOptions]
