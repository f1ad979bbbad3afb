import type { EventInput, EventStore, LogReplay, StoredEvent } from '@sse/core'
import type { Redis, RedisOptions } from 'ioredis'
import { Appends } from './append'
import { fail, isClient, openClient, StoreConnection } from './connection'
import { RedisDurables } from './durable'
import { Epoch } from './epoch'
import { LiveFeed } from './feed'
import { type Fence, runFenced } from './fence'
import { compareIds } from './ids'
import { StoreKeys } from './keys'
import { broadcastMessage } from './messages'
import { RedisStoreError, type RedisStoreOptions, resolveSettings } from './options'
import { LogReads } from './reads'

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
  readonly #offlineTimeout: number
  readonly #stop = new AbortController()
  readonly #connection: StoreConnection
  readonly #epoch: Epoch
  readonly #feed: LiveFeed
  readonly #appends: Appends
  readonly #reads: LogReads
  /** Durable streams shared by every process on this Redis and prefix (see the README). */
  readonly durable: RedisDurables

  constructor(options: RedisStoreOptions = {}) {
    const { redis = 'redis://127.0.0.1:6379', prefix = 'sse:' } = options
    const settings = resolveSettings(options)
    const { limits, trim, offlineTimeout } = settings
    this.#offlineTimeout = offlineTimeout
    this.prefix = prefix
    const shared = isClient(redis)
    const client = shared ? (redis as Redis) : openClient(redis as string | RedisOptions)
    this.client = client
    // Pub/Sub channels are one namespace for every database of a server: stores with the same
    // prefix on databases 0 and 1 must not hear each other's events. (A Cluster has only 0.)
    const db = (client as { options?: { db?: number } }).options?.db ?? 0
    const keys = new StoreKeys(prefix, db)
    this.#keys = keys
    const stop = this.#stop.signal
    this.#connection = new StoreConnection(client, !shared, settings, stop)
    const usable = () => this.#connection.usable()
    this.#epoch = new Epoch(client, keys.epoch)
    this.#feed = new LiveFeed({
      client,
      keys,
      trim,
      pingInterval: settings.pingInterval,
      offlineTimeout,
      outages: this.#connection.outages,
      onError: settings.onError,
      epochChanged: () => this.#epoch.changed(),
      stop,
    })
    this.durable = new RedisDurables(this.#feed.settings)
    this.#appends = new Appends({ client, keys, limits, usable })
    this.#reads = new LogReads({ client, keys, trim, usable })
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
    const known = this.#epoch.known
    if (known !== undefined) return known
    await this.#connection.usable()
    try {
      return await this.#epoch.load()
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
    return this.#appends.append(inputs)
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

  /** Publishes events on their logs' feed channels only: every process's followers, no history. */
  async broadcast(inputs: readonly EventInput[]): Promise<void> {
    const wait = this.#connection.usable()
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
  read(log: string, after: string | undefined): Promise<LogReplay> {
    return this.#reads.read(log, after)
  }

  /** The log's last position now, read from Redis: `0-0` for a log that never had an event. */
  head(log: string): Promise<string> {
    return this.#reads.head(log)
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
    this.#appends.flush()
    this.#stop.abort()
    this.#feed.close()
    await this.#connection.close()
  }
}
