import type { Cluster, Redis, RedisOptions } from 'ioredis'

/** An ioredis client the application shares with the store: a `Redis` or a `Cluster`. */
export type RedisClient = Redis | Cluster

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * How to reach Redis: a URL (`redis://user:pass@host:6379/0`), ioredis options, or an ioredis
   * client to share (a `Redis`, or a `Cluster`: every key the store touches at once shares one
   * hash tag). A shared client is never closed by the store; it should keep ioredis' default
   * reconnection and ideally `enableOfflineQueue: false` (see the README, Faults).
   * @default 'redis://127.0.0.1:6379'
   */
  redis?: string | RedisOptions | RedisClient
  /**
   * Prefix of every key and channel of the store: a log's stream is `${prefix}{<log>}`, its
   * last position `${prefix}{<log>}:m`, the store's epoch `${prefix}epoch`, the live feed's
   * channel `${prefix}feed` (`${prefix}feed:<db>` beyond database 0). Stores with different prefixes are separate histories. Must not
   * contain `{` or `}` (the log name is the hash tag).
   * @default 'sse:'
   */
  prefix?: string
  /**
   * The most events kept per log (a topic, a key, or the hub-wide log) for replay
   * (`XADD MAXLEN`); `Infinity` keeps any number. A busy log never trims a quiet one.
   * @default 1000
   */
  maxLen?: number
  /**
   * How long an event is kept for replay, in milliseconds (`XTRIM MINID` on Redis' clock, on
   * every append and read of its log); a log's stream expires this long after its last append
   * (`PEXPIRE`). `Infinity` keeps events (and streams) forever.
   * @default 86400000 (24 h)
   */
  maxAge?: number
  /**
   * The most bytes kept per log: after each append, the oldest events of the log are dropped
   * while its retained events hold more than this, counted as the UTF-8 bytes (Lua's string
   * length) of each event's data, event name, topic and key (the values of its stream fields
   * `d`, `e`, `t`, `k`; not the field names, the ids, nor the store's own fields `p` and `b`).
   * The newest event is always kept, even when it alone is larger. Trimmed exactly, whatever
   * `approximate` says. `Infinity` sets no byte limit.
   * @default 1048576 (1 MiB)
   */
  maxBytes?: number
  /**
   * How long the store remembers the last position of a log after its last append, in
   * milliseconds: a cursor older than that position is reported lost even once the log's
   * stream has expired. After this, the log starts over from `0-0`, and a client whose cursor
   * still held `0-0` for it (it never got one of its events) is not told about events it
   * missed. At least `maxAge`.
   * @default 604800000 (7 days), or maxAge when that is longer
   */
  forgetAfter?: number
  /**
   * Trim approximately (`~`): Redis then drops only whole internal nodes (100 entries each by
   * default), so a little more than `maxLen` / `maxAge` is kept, much more cheaply than with
   * exact trimming. `maxBytes` is always trimmed exactly.
   * @default true
   */
  approximate?: boolean
  /**
   * How often, in milliseconds, the live feed's Pub/Sub connection is checked with a `PING`. A
   * ping still unanswered this long later is taken as a dead connection (a half-open TCP
   * connection never reports itself): the feed reconnects and fetches what it missed.
   * @default 5000
   */
  pingInterval?: number
  /**
   * How long `append`, `read` and `follow` wait for a connection to Redis before they reject
   * with a {@link RedisStoreError}, in milliseconds. Nothing is queued beyond this.
   * @default 2000
   */
  offlineTimeout?: number
  /**
   * Called with connection losses (once per outage, whichever of the store's connections
   * noticed it), live-feed gaps and unexpected read errors. Failed `append` and `read` calls
   * reject instead.
   * @default console.error
   */
  onError?: (error: unknown) => void
}

/** What a {@link RedisStore} throws or reports: Redis unreachable, a command failed, a feed gap. */
export class RedisStoreError extends Error {
  /** Always `'RedisStoreError'`. */
  override readonly name = 'RedisStoreError'
}

const DAY = 24 * 60 * 60 * 1000

/** The options a store runs with: defaults applied, checked, and in the scripts' argument form. */
export interface StoreSettings {
  /**
   * The append script's arguments before the channel: maxLen, trim mode, maxAge, forgetAfter,
   * maxBytes (-1 for no limit).
   */
  limits: (string | number)[]
  /** The age trim of reads: maxAge in ms (-1: none), trim mode. */
  trim: [number, string]
  pingInterval: number
  offlineTimeout: number
  onError: (error: unknown) => void
}

/** @throws RangeError naming the option when a value is out of its range. */
export function resolveSettings(options: RedisStoreOptions): StoreSettings {
  const maxLen = options.maxLen ?? 1000
  const maxAge = options.maxAge ?? DAY
  const forgetAfter = Math.max(options.forgetAfter ?? 7 * DAY, maxAge)
  const maxBytes = options.maxBytes ?? 1024 * 1024
  const pingInterval = options.pingInterval ?? 5000
  if (!(maxLen >= 0)) throw new RangeError('RedisStore: maxLen must be >= 0')
  if (!(maxBytes >= 0)) throw new RangeError('RedisStore: maxBytes must be >= 0')
  if (!(maxAge > 0)) throw new RangeError('RedisStore: maxAge must be > 0')
  if (!(pingInterval > 0)) throw new RangeError('RedisStore: pingInterval must be > 0')
  const mode = (options.approximate ?? true) ? '~' : '='
  const ms = (value: number) => (Number.isFinite(value) ? Math.ceil(value) : -1)
  const count = (value: number) => (Number.isFinite(value) ? Math.floor(value) : -1)
  return {
    limits: [count(maxLen), mode, ms(maxAge), ms(forgetAfter), count(maxBytes)],
    trim: [ms(maxAge), mode],
    pingInterval,
    offlineTimeout: options.offlineTimeout ?? 2000,
    onError: options.onError ?? ((error) => console.error('[@sse/redis]', error)),
  }
}
