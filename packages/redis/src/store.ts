import { randomBytes } from 'node:crypto'
import type { EventInput, EventStore, LogReplay, StoredEvent } from '@sse/core'
import type { Redis, RedisOptions } from 'ioredis'
import { AppendBatcher } from './batch'
import { fail, isClient, keepAlive, Outages, openClient, whenReady } from './connection'
import { RedisDurables } from './durable'
import { LiveFeed } from './feed'
import { appendFenced, currentFence, type Fence, runFenced } from './fence'
import { type AgeTrim, readHead, readLog, toEvent } from './history'
import { compareIds } from './ids'
import { StoreKeys } from './keys'
import { broadcastMessage } from './messages'
import { RedisStoreError, type RedisStoreOptions, resolveSettings } from './options'
import { appendScript } from './scripts'

/**
 * The `@sse/core` {@link @sse/core#EventStore} contract on Redis, for several processes or
 * machines behind a load balancer. Each log (a topic, a key, or the hub-wide log) is one Redis
 * stream, `${prefix}{<log>}`, with its own retention (`maxLen`, `maxBytes`, `maxAge`): a busy
 * topic never trims a quiet one, and on Redis Cluster the logs spread over the shards. A Lua
 * script appends
 * a batch of a log's events, trims the log and publishes them on the store's channel in one
 * round trip; appends of one event-loop turn are batched per log, the logs' scripts pipelined
 * on one connection. One Pub/Sub connection per store feeds every local
 * subscriber, fetching from the streams whatever it missed. Call {@link RedisStore.close} on
 * shutdown.
 *
 * @example
 * ```ts
 * import { createHub } from '@sse/core'
 * import { openNodeStream } from '@sse/core/node'
 * import { RedisStore } from '@sse/redis'
 *
 * const store = new RedisStore({ redis: process.env.REDIS_URL, maxLen: 5000 })
 * const hub = createHub({ store })
 * http.createServer((req, res) => openNodeStream(req, res, { hub, topics: ['news'] }))
 * await hub.publish('headline', { title: 'Hello' }, { topic: 'news' })
 * ```
 */
export class RedisStore implements EventStore {
  /** The prefix of every key and channel of the store. */
  readonly prefix: string
  /** The connection used for appends and reads (a shared client as given). */
  readonly client: Redis
  readonly #keys: StoreKeys
  readonly #owned: boolean
  /** The append script's arguments before the channel (see StoreSettings). */
  readonly #limits: (string | number)[]
  readonly #trim: AgeTrim
  readonly #offlineTimeout: number
  readonly #onError: (error: unknown) => void
  readonly #stop = new AbortController()
  readonly #feed: LiveFeed
  readonly #batcher: AppendBatcher
  #epoch: string | undefined
  /** Durable streams shared by every process on this Redis and prefix (see the README). */
  readonly durable: RedisDurables

  constructor(options: RedisStoreOptions = {}) {
    const { redis = 'redis://127.0.0.1:6379', prefix = 'sse:' } = options
    const settings = resolveSettings(options)
    const { pingInterval } = settings
    this.#offlineTimeout = settings.offlineTimeout
    this.#onError = settings.onError
    this.prefix = prefix
    this.#limits = settings.limits
    this.#trim = settings.trim
    const shared = isClient(redis)
    this.#owned = !shared
    this.client = shared ? (redis as Redis) : openClient(redis as string | RedisOptions)
    // Pub/Sub channels are one namespace for every database of a server: stores with the same
    // prefix on databases 0 and 1 must not hear each other's events. (A Cluster has only 0.)
    const db = (this.client as { options?: { db?: number } }).options?.db ?? 0
    this.#keys = new StoreKeys(prefix, db)
    // The store's own connection is dropped when it stops answering (a shared one is the
    // application's to watch).
    const outages = new Outages(this.#onError, () => this.#stop.signal.aborted)
    outages.watch(this.client)
    if (this.#owned) {
      const active = () => !this.#stop.signal.aborted
      const stop = keepAlive(this.client, pingInterval, active, outages)
      this.#stop.signal.addEventListener('abort', stop)
    }
    this.#feed = new LiveFeed({
      client: this.client,
      keys: this.#keys,
      trim: this.#trim,
      pingInterval,
      offlineTimeout: this.#offlineTimeout,
      outages,
      onError: this.#onError,
      epochChanged: async () => {
        const before = this.#epoch
        return before !== undefined && (await this.#loadEpoch()) !== before
      },
      stop: this.#stop.signal,
    })
    this.durable = new RedisDurables(this.#feed.settings)
    this.#batcher = new AppendBatcher((log, batch) => this.#appendBatch(log, batch))
  }

  /** The key of a log's stream (`${prefix}{<log>}`), for inspection. */
  streamKey(log: string): string {
    return this.#keys.of(log).stream
  }

  /** Resolves once Redis answers, the epoch is known and the live feed (if started) subscribed. */
  async ready(): Promise<void> {
    await this.epoch()
    if (!(await this.#feed.whenConnected(this.#offlineTimeout))) {
      throw new RedisStoreError('Redis is unreachable (the live feed is not connected)')
    }
  }

  /**
   * The store's epoch: a random name kept in Redis (`${prefix}epoch`, set once with `SET NX` by
   * whichever process comes first). It is read once, and again after every reconnect of the
   * live feed: Redis that lost everything gets a new one, and old cursors are recognised.
   */
  async epoch(): Promise<string> {
    if (this.#epoch !== undefined) return this.#epoch
    await this.#usable()
    try {
      return await this.#loadEpoch()
    } catch (error) {
      throw fail('reading the epoch failed', error)
    }
  }

  /**
   * Appends each event to its log: the result is in the order of `inputs`. Appends made in the
   * same turn of the event loop go to Redis together, one script per log (pipelined), each
   * appending its log's events in order (see `AppendBatcher`). Rejects with a
   * {@link RedisStoreError} when Redis is unreachable for `offlineTimeout`, or a script failed
   * (its events may then have been stored; other logs' and batches' events are not affected).
   */
  append(inputs: readonly EventInput[]): Promise<StoredEvent[]> {
    const fence = currentFence()
    if (fence) return this.#appendFenced(fence, inputs)
    const wait = this.#usable()
    if (wait) return wait.then(() => this.#add(inputs))
    return this.#add(inputs)
  }

  // Not async, and one event (what a hub publishes most) without Promise.all: this is the path
  // of every publish, and its promises were a measurable share of its cost.
  #add(inputs: readonly EventInput[]): Promise<StoredEvent[]> {
    if (inputs.length === 1) return this.#batcher.add(inputs[0]!).then(inArray)
    return Promise.all(inputs.map((input) => this.#batcher.add(input)))
  }

  /**
   * Runs `fn` with a fencing token on the appends it makes (a hub's `publish` inside it): each
   * append stores its events only if `token` is not below the highest one stored at `fence.key`,
   * which it then records, checked in the append's own script. A former lease holder whose
   * publish reaches Redis late (a network stall) can then never store after a newer holder:
   * its append rejects with `RedisFencedError`, storing nothing. Fenced appends are not batched.
   *
   * @example
   * ```ts
   * const n = await store.client.incr('ticks') // taken with the lease, in one script
   * await store.fenced({ key: 'ticks:fence', token: n }, () => hub.publish('tick', { n }))
   * ```
   */
  fenced<T>(fence: Fence, fn: () => T): T {
    return runFenced(fence, fn)
  }

  async #appendFenced(fence: Fence, inputs: readonly EventInput[]): Promise<StoredEvent[]> {
    const wait = this.#usable()
    if (wait) await wait
    const stored = new Map<string, StoredEvent[]>()
    // One script per log, in order: on a Cluster each log has its own slot.
    for (const log of new Set(inputs.map((input) => input.log))) {
      const batch = inputs.filter((input) => input.log === log)
      const keys = this.#keys.of(log)
      try {
        stored.set(log, await appendFenced(this.client, keys, this.#limits, log, fence, batch))
      } catch (error) {
        if (error instanceof RedisStoreError) throw error
        throw fail('appending failed, the event may not have been stored', error)
      }
    }
    return inputs.map((input) => stored.get(input.log)!.shift()!)
  }

  /** Publishes events on their logs' feed channels only: every process's followers, no history. */
  async broadcast(inputs: readonly EventInput[]): Promise<void> {
    const wait = this.#usable()
    if (wait) await wait
    try {
      await Promise.all(
        inputs.map((input) =>
          this.client.spublish(this.#keys.of(input.log).channel, broadcastMessage(input)),
        ),
      )
    } catch (error) {
      throw fail('SPUBLISH failed, the event may not have been delivered', error)
    }
  }

  /**
   * The retained events of `log` after `after` (client input: anything that is not one of the
   * log's positions is lost, with every retained event), read up to the log's head.
   */
  async read(log: string, after: string | undefined): Promise<LogReplay> {
    const wait = this.#usable()
    if (wait) await wait
    try {
      const read = await readLog(this.client, this.#keys.of(log), after, this.#trim, true)
      return {
        events: read.entries.map((entry) => toEvent(log, entry)),
        lost: read.lost,
        head: read.head,
      }
    } catch (error) {
      throw fail(`reading ${log} failed`, error)
    }
  }

  /** The log's last position now, read from Redis: `0-0` for a log that never had an event. */
  async head(log: string): Promise<string> {
    const wait = this.#usable()
    if (wait) await wait
    try {
      return await readHead(this.client, this.#keys.of(log), this.#trim)
    } catch (error) {
      throw fail(`reading the head of ${log} failed`, error)
    }
  }

  /**
   * Starts following a log on the live feed; resolves with its head (`0-0` for a log that
   * never had an event, or whose last position was forgotten).
   */
  follow(log: string): Promise<string> {
    if (this.#stop.signal.aborted) return Promise.reject(new RedisStoreError('the store is closed'))
    return this.#feed.follow(log)
  }

  /** Stops delivering the log's events (the hub no longer has streams that follow it). */
  unfollow(log: string): void {
    this.#feed.unfollow(log)
  }

  /**
   * Feeds `listener` the events of followed logs, appended or broadcast by any process.
   * `onGap(log)` is called when the feed skipped events of a log that Redis no longer has
   * (trimmed or expired before this process read them), or the log went back (Redis lost data):
   * a hub then ends the streams that follow it, and each client resumes from the store.
   */
  subscribe(listener: (event: StoredEvent) => void, onGap?: (log: string) => void): () => void {
    return this.#feed.subscribe(listener, onGap)
  }

  /** Orders two stream ids (`<ms>-<seq>`) numerically; other strings in code-unit order. */
  compare(a: string, b: string): number {
    return compareIds(a, b)
  }

  /** Stops the live feed and closes the store's connections (not a shared client). */
  async close(): Promise<void> {
    if (this.#stop.signal.aborted) return
    // Appends queued before close go out before QUIT, which lets their replies arrive.
    this.#batcher.flush()
    this.#stop.abort()
    this.#feed.close()
    if (!this.#owned) return
    // QUIT lets replies in flight arrive, but a dead connection would never answer it.
    const timer = setTimeout(() => this.client.disconnect(), 1000)
    await this.client.quit().catch(() => this.client.disconnect())
    clearTimeout(timer)
  }

  /** Runs the append script on one log's batch: each event as its field count, then fields. */
  async #appendBatch(log: string, batch: readonly string[][]): Promise<string[]> {
    const keys = this.#keys.of(log)
    const args = [...this.#limits, keys.channel, log]
    for (const entry of batch) {
      args.push(entry.length)
      for (const field of entry) args.push(field)
    }
    try {
      const ids = await appendScript.run(this.client, [keys.stream, keys.meta], args)
      if (!Array.isArray(ids) || ids.length !== batch.length) {
        throw new Error(`unexpected reply ${String(ids).slice(0, 100)}`)
      }
      return ids as string[]
    } catch (error) {
      throw fail('appending failed, the event may not have been stored', error)
    }
  }

  async #loadEpoch(): Promise<string> {
    const key = this.#keys.epoch
    const fresh = `${Date.now().toString(36)}${randomBytes(6).toString('hex')}`
    const [, value] = await Promise.all([this.client.set(key, fresh, 'NX'), this.client.get(key)])
    // Printable ASCII without '.': a cursor is made of dot-separated parts.
    this.#epoch = (value ?? fresh).replace(/[^!-~]|\./g, '_')
    return this.#epoch
  }

  /** Undefined when Redis is usable now; else waits, at most offlineTimeout, for it. */
  #usable(): Promise<void> | undefined {
    if (this.#stop.signal.aborted) return Promise.reject(new RedisStoreError('the store is closed'))
    if (this.client.status === 'ready') return undefined
    return whenReady(this.client, this.#offlineTimeout).then((ready) => {
      if (!ready) {
        throw new RedisStoreError(
          `Redis is unreachable (connection ${this.client.status}); nothing was stored`,
        )
      }
    })
  }
}

function inArray(event: StoredEvent): StoredEvent[] {
  return [event]
}
