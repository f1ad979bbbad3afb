import type { EventInput, EventStore, ReplayResult, StoredEvent } from '@sse/core'
import { Redis, type RedisOptions } from 'ioredis'
import { appendScript } from './append-script'
import { fail, isClient, watchOutages, whenReady, within } from './connection'
import { LiveFeed } from './feed'
import { readInfo, readPage, toEvent } from './history'
import { compareIds, isStreamId } from './ids'
import { RedisStoreError, type RedisStoreOptions } from './options'

/**
 * The `@sse/core` {@link EventStore} contract on Redis Streams, for several processes or machines
 * behind a load balancer. All events of the store live in ONE stream, `${prefix}events`, with the
 * topic, key, event name and data as fields: `XADD` assigns ids that increase across every
 * instance and topic, so a session that follows several topics resumes with its one
 * `Last-Event-ID`. Replay is `XRANGE` strictly after the cursor; one blocking `XREAD` per store,
 * on its own connection, feeds every local subscriber, including with this process's own events.
 * Call {@link RedisStore.close} on shutdown.
 *
 * @example
 * ```ts
 * import { createHub } from '@sse/core'
 * import { openNodeStream } from '@sse/core/node'
 * import { RedisStore } from '@sse/redis'
 *
 * const store = new RedisStore({ redis: process.env.REDIS_URL, maxLen: 50_000 })
 * const hub = createHub({ store })
 * http.createServer((req, res) => openNodeStream(req, res, { hub, topics: ['news'] }))
 * await hub.publish('headline', { title: 'Hello' }, { topic: 'news' })
 * ```
 */
export class RedisStore implements EventStore {
  /** The stream key holding every event of this store. */
  readonly key: string
  /** The connection used for `XADD` and `XRANGE`. */
  readonly client: Redis
  readonly #owned: boolean
  /** The append script's arguments before the fields: maxLen, trim mode, maxAge. */
  readonly #trim: (string | number)[]
  readonly #batch: number
  readonly #offlineTimeout: number
  readonly #onError: (error: unknown) => void
  readonly #stop = new AbortController()
  readonly #feed: LiveFeed

  constructor(options: RedisStoreOptions = {}) {
    const { redis = 'redis://127.0.0.1:6379', prefix = 'sse:' } = options
    const maxLen = options.maxLen ?? 10_000
    const maxAge = options.maxAge ?? Number.POSITIVE_INFINITY
    const block = options.block ?? 5000
    this.#batch = options.batch ?? 1000
    this.#offlineTimeout = options.offlineTimeout ?? 2000
    this.#onError = options.onError ?? ((error) => console.error('[@sse/redis]', error))
    if (!(maxLen >= 0)) throw new RangeError('RedisStore: maxLen must be >= 0')
    if (!(maxAge > 0)) throw new RangeError('RedisStore: maxAge must be > 0')
    if (!(block > 0 && this.#batch > 0)) {
      throw new RangeError('RedisStore: block and batch must be > 0')
    }
    this.key = `${prefix}events`
    this.#trim = [
      Number.isFinite(maxLen) ? Math.floor(maxLen) : -1,
      (options.approximate ?? true) ? '~' : '=',
      Number.isFinite(maxAge) ? Math.ceil(maxAge) : -1,
    ]
    const shared = isClient(redis)
    this.#owned = !shared
    // No offline queue and no retries per command: while Redis is down an append fails (after
    // offlineTimeout) instead of waiting in memory, and an XADD cut off by a disconnect rejects
    // instead of being sent again after the reconnect, which could store the event twice.
    const own = { enableOfflineQueue: false, maxRetriesPerRequest: 0 } satisfies RedisOptions
    this.client = shared
      ? redis
      : typeof redis === 'string'
        ? new Redis(redis, own)
        : new Redis({ ...(redis as RedisOptions), ...own })
    watchOutages(this.client, this.#onError, () => this.#stop.signal.aborted)
    this.#feed = new LiveFeed({
      key: this.key,
      block,
      batch: this.#batch,
      onError: this.#onError,
      stop: this.#stop.signal,
    })
  }

  /** Resolves once Redis answers and the live feed (when subscribed) knows where it starts. */
  async ready(): Promise<void> {
    await this.#usable()
  }

  async append(input: EventInput): Promise<StoredEvent> {
    await this.#usable()
    const fields: string[] = ['d', input.data]
    if (input.event !== undefined) fields.push('e', input.event)
    if (input.topic !== undefined) fields.push('t', input.topic)
    if (input.key !== undefined) fields.push('k', input.key)
    let id: string
    try {
      id = await appendScript(this.client, this.key, [...this.#trim, ...fields])
    } catch (error) {
      throw fail('XADD failed, the event may not have been stored', error)
    }
    return { ...input, id }
  }

  async replay(after: string | undefined): Promise<ReplayResult> {
    await this.#usable()
    const cursor = after !== undefined && isStreamId(after) ? after : undefined
    let lost = cursor === undefined
    let from = cursor ?? '0-0'
    const events: StoredEvent[] = []
    try {
      for (let page = 0; ; page++) {
        const [info, entries] = await readPage(this.client, this.key, from, this.#batch)
        // `0-0` is the head handed to clients while the stream was still empty: before the
        // origin, yet one of ours.
        const foreign =
          compareIds(from, info.last) > 0 ||
          (from !== '0-0' && info.origin !== undefined && compareIds(from, info.origin) < 0)
        if (page === 0 && !lost && foreign) {
          // A cursor this stream never handed out: another stream, or one from before Redis
          // lost its data.
          lost = true
          from = '0-0'
          continue
        }
        // Something after our position was trimmed before we could read it.
        if (compareIds(from, info.trimmed) < 0) lost = true
        for (const entry of entries) events.push(toEvent(entry))
        if (entries.length < this.#batch) return { events, lost }
        from = entries[entries.length - 1]![0]
      }
    } catch (error) {
      throw fail('replay failed', error)
    }
  }

  /**
   * The id of the last entry the live feed delivered, without a round trip (so a new stream
   * opens even while Redis is briefly away: later entries come through the feed once it is
   * back, or it reports a gap). Without a started feed, the stream's newest id.
   */
  async head(): Promise<string> {
    if (this.#feed.lastId !== undefined) return this.#feed.lastId
    await this.#usable()
    if (this.#feed.lastId !== undefined) return this.#feed.lastId
    try {
      return (await readInfo(this.client, this.key)).last
    } catch (error) {
      throw fail('reading the stream head failed', error)
    }
  }

  /**
   * Feeds `listener` every event appended to the stream from now on, by any process. `onGap` is
   * called when the feed skipped events: entries it had not read yet were trimmed while it was
   * disconnected, or Redis came back without its data. A hub then ends its streams (`resync`),
   * and each client resumes from the store, which tells it what was lost.
   */
  subscribe(listener: (event: StoredEvent) => void, onGap?: () => void): () => void {
    return this.#feed.subscribe(this.client, listener, onGap)
  }

  compare(a: string, b: string): number {
    return compareIds(a, b)
  }

  /** Stops the live feed and closes the store's connections (not a shared client). */
  async close(): Promise<void> {
    if (this.#stop.signal.aborted) return
    this.#stop.abort()
    this.#feed.close()
    if (!this.#owned) return
    // QUIT lets replies in flight arrive, but a dead connection would never answer it.
    const timer = setTimeout(() => this.client.disconnect(), 1000)
    await this.client.quit().catch(() => this.client.disconnect())
    clearTimeout(timer)
  }

  /** Waits, at most offlineTimeout, for a usable connection and a started live feed. */
  async #usable(): Promise<void> {
    if (this.#stop.signal.aborted) throw new RedisStoreError('the store is closed')
    const deadline = Date.now() + this.#offlineTimeout
    if (!(await whenReady(this.client, this.#offlineTimeout))) {
      throw new RedisStoreError(
        `Redis is unreachable (connection ${this.client.status}); nothing was stored`,
      )
    }
    const started = this.#feed.started
    if (
      started &&
      !(await within(
        started.then(() => true),
        deadline - Date.now(),
      ))
    ) {
      throw new RedisStoreError('Redis is unreachable (live feed not started); nothing was stored')
    }
  }
}
