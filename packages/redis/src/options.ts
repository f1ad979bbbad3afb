import type { Redis, RedisOptions } from 'ioredis'

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * How to reach Redis: a URL (`redis://user:pass@host:6379/0`), ioredis options, or an ioredis
   * client to share. A shared client is never closed by the store; it should keep ioredis'
   * default reconnection and ideally `enableOfflineQueue: false` (see the README, Faults).
   * @default 'redis://127.0.0.1:6379'
   */
  redis?: string | RedisOptions | Redis
  /**
   * Prefix of the store's one stream key, `${prefix}events`. Stores with different prefixes are
   * separate id spaces: a hub (and every session on it) uses exactly one store.
   * @default 'sse:'
   */
  prefix?: string
  /**
   * The most events kept for replay (`XADD MAXLEN`); `Infinity` keeps any number.
   * @default 10000
   */
  maxLen?: number
  /**
   * How long an event is kept for replay, in milliseconds (`MINID`, from this process's clock
   * against the Redis time in the ids); `Infinity` keeps events forever.
   * @default Infinity
   */
  maxAge?: number
  /**
   * Trim approximately (`~`): Redis then drops only whole internal nodes (100 entries each by
   * default), so a little more than `maxLen` / `maxAge` is kept, much more cheaply than with
   * exact trimming.
   * @default true
   */
  approximate?: boolean
  /**
   * How long one `XREAD` of the live feed blocks in Redis, in milliseconds. A read still without
   * an answer `block` later again (1 s at least, 5 s at most) is taken as a dead connection (a
   * half-open TCP connection never reports itself) and the reader reconnects.
   * @default 5000
   */
  block?: number
  /**
   * The most entries one `XREAD` or one replay page fetches.
   * @default 1000
   */
  batch?: number
  /**
   * How long `append` and `replay` wait for a connection to Redis before they reject with a
   * {@link RedisStoreError}, in milliseconds. Nothing is queued beyond this.
   * @default 2000
   */
  offlineTimeout?: number
  /**
   * Called with connection losses (once per outage), live-feed gaps and unexpected read errors.
   * Failed `append` and `replay` calls reject instead.
   * @default console.error
   */
  onError?: (error: unknown) => void
}

/** What a {@link RedisStore} throws or reports: Redis unreachable, a command failed, a feed gap. */
export class RedisStoreError extends Error {
  override readonly name = 'RedisStoreError'
}
