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

/** Who receives a published event. With neither field, every stream of the hub does. */
export interface Target {
  /** Streams that follow this topic. */
  topic?: string
  /** Streams opened with this key (for example a user id); combined with `topic`, both must match. */
  key?: string
}

/**
 * The arguments of {@link Hub.publish}: `(event, data, target?)` with data typed by the event
 * map (optional when it allows `undefined`), or `(message, target?)`. A union of tuples keeps
 * `Hub<Events>` assignable to `Hub`.
 */
export type PublishArgs<M extends EventMap> =
  | EventArgs<M, [target?: Target]>
  | [message: SseMessage<M>, target?: Target]
