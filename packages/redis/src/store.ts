import { setTimeout as sleep } from 'node:timers/promises'
import type { EventInput, EventStore, ReplayResult, StoredEvent } from '@sse/core'
import { Redis, type RedisOptions } from 'ioredis'
import { appendScript } from './append-script'
import { compareIds, isStreamId } from './ids'

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

interface StreamInfo {
  /** The id of the newest entry ever added (`last-generated-id`). */
  last: string
  /** The newest id removed from the stream (trimmed or deleted): a cursor before it missed it. */
  trimmed: string
  /** The stream's first entry ever, when known: a cursor before it is not from this stream. */
  origin: string | undefined
}

type Entry = [id: string, fields: string[]]

const EMPTY: StreamInfo = { last: '0-0', trimmed: '0-0', origin: undefined }

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
  readonly #block: number
  /** How long past `block` an XREAD may go unanswered before its connection counts as dead. */
  readonly #grace: number
  readonly #batch: number
  readonly #offlineTimeout: number
  readonly #onError: (error: unknown) => void
  readonly #listeners = new Set<(event: StoredEvent) => void>()
  readonly #gapListeners = new Set<() => void>()
  readonly #stop = new AbortController()
  #reader: Redis | undefined
  /** Resolves once the live feed knows where it starts; appends wait for it. */
  #started: Promise<void> | undefined
  /** The id of the last entry the live feed delivered. */
  #lastId: string | undefined

  constructor(options: RedisStoreOptions = {}) {
    const { redis = 'redis://127.0.0.1:6379', prefix = 'sse:' } = options
    const maxLen = options.maxLen ?? 10_000
    const maxAge = options.maxAge ?? Number.POSITIVE_INFINITY
    this.#block = options.block ?? 5000
    this.#grace = Math.min(5000, Math.max(1000, this.#block))
    this.#batch = options.batch ?? 1000
    this.#offlineTimeout = options.offlineTimeout ?? 2000
    this.#onError = options.onError ?? ((error) => console.error('[@sse/redis]', error))
    if (!(maxLen >= 0)) throw new RangeError('RedisStore: maxLen must be >= 0')
    if (!(maxAge > 0)) throw new RangeError('RedisStore: maxAge must be > 0')
    if (!(this.#block > 0 && this.#batch > 0)) {
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
    this.#watch(this.client)
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
        const [info, entries] = await this.#page(from)
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
    if (this.#lastId !== undefined) return this.#lastId
    await this.#usable()
    if (this.#lastId !== undefined) return this.#lastId
    try {
      const info = await this.client.call('XINFO', 'STREAM', this.key).then(parseInfo, missing)
      return info.last
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
    this.#listeners.add(listener)
    if (onGap) this.#gapListeners.add(onGap)
    if (!this.#reader && !this.#stop.signal.aborted) this.#startReader()
    return () => {
      this.#listeners.delete(listener)
      if (onGap) this.#gapListeners.delete(onGap)
    }
  }

  compare(a: string, b: string): number {
    return compareIds(a, b)
  }

  /** Stops the live feed and closes the store's connections (not a shared client). */
  async close(): Promise<void> {
    if (this.#stop.signal.aborted) return
    this.#stop.abort()
    this.#listeners.clear()
    this.#gapListeners.clear()
    this.#reader?.disconnect()
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
    if (
      this.#started &&
      !(await within(
        this.#started.then(() => true),
        deadline - Date.now(),
      ))
    ) {
      throw new RedisStoreError('Redis is unreachable (live feed not started); nothing was stored')
    }
  }

  /** One replay page and, atomically with it, what the stream has trimmed. */
  async #page(from: string): Promise<[StreamInfo, Entry[]]> {
    const replies = await this.client
      .multi()
      .call('XINFO', 'STREAM', this.key)
      .xrange(this.key, `(${from}`, '+', 'COUNT', this.#batch)
      .exec()
    if (!replies) throw new Error('MULTI was aborted')
    const [[infoError, info], [rangeError, entries]] = replies as [
      [Error | null, unknown],
      [Error | null, Entry[]],
    ]
    if (rangeError) throw rangeError
    return [infoError ? missing(infoError) : parseInfo(info), entries]
  }

  #startReader(): void {
    // Its own connection: a blocking XREAD holds the connection it runs on.
    const reader = this.client.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 0 })
    this.#reader = reader
    this.#watch(reader)
    let started!: () => void
    this.#started = new Promise((resolve) => {
      started = resolve
    })
    this.#read(reader, started).catch((error) => this.#onError(error))
  }

  /** The live feed: one blocking XREAD at a time, resuming from the last delivered id. */
  async #read(reader: Redis, started: () => void): Promise<void> {
    const { signal } = this.#stop
    // Counts connection losses, so the feed checks for a gap after every reconnection.
    let epoch = 0
    let synced = -1
    reader.on('close', () => epoch++)
    let pause = 100
    while (!signal.aborted) {
      try {
        if (reader.status !== 'ready' || synced !== epoch) {
          // Bounded, so that close() is noticed even while ioredis is between attempts.
          if (!(await whenReady(reader, 1000))) {
            if (reader.status !== 'end' || signal.aborted) continue
            this.#onError(new RedisStoreError('the live feed stopped: its connection ended'))
            return
          }
          synced = epoch
          await this.#resync(reader)
          started()
        }
        const watchdog = setTimeout(() => reader.disconnect(true), this.#block + this.#grace)
        let reply: [string, Entry[]][] | null
        try {
          reply = (await reader.xread(
            'COUNT',
            this.#batch,
            'BLOCK',
            this.#block,
            'STREAMS',
            this.key,
            this.#lastId!,
          )) as [string, Entry[]][] | null
        } finally {
          clearTimeout(watchdog)
        }
        pause = 100
        for (const entry of reply?.[0]?.[1] ?? []) {
          // Each appended entry names the one before it: a newer one than the last read means
          // those between were trimmed before this process could read them.
          const before = fieldOf(entry[1], 'p')
          if (before !== undefined && compareIds(before, this.#lastId!) > 0) this.#trimmedUnread()
          this.#lastId = entry[0]
          this.#dispatch(toEvent(entry))
        }
      } catch (error) {
        if (signal.aborted) return
        // Connection losses are reported once by #watch; anything else is worth a report.
        if (reader.status === 'ready') this.#onError(error)
        await sleep(pause, undefined, { signal }).catch(() => {})
        pause = Math.min(pause * 2, 2000)
      }
    }
  }

  /** Finds where the live feed starts or resumes, and reports a gap since it last read. */
  async #resync(reader: Redis): Promise<void> {
    const info = await reader.call('XINFO', 'STREAM', this.key).then(parseInfo, missing)
    if (this.#lastId === undefined) {
      this.#lastId = info.last
      return
    }
    // The stream is not the one the feed read from: it ends before, or begins after, the last
    // id delivered (an id the feed saw cannot be older than its stream's origin).
    const reset =
      compareIds(info.last, this.#lastId) < 0 ||
      (this.#lastId !== '0-0' &&
        info.origin !== undefined &&
        compareIds(info.origin, this.#lastId) > 0)
    if (reset) {
      this.#onError(
        new RedisStoreError(
          `${this.key} was reset since ${this.#lastId} was delivered: Redis lost its data, and ` +
            'events not yet read with it; the live feed goes on with the new stream, local ' +
            'streams resume from the store',
        ),
      )
      this.#lastId = '0-0'
      this.#gap()
    } else if (compareIds(this.#lastId, info.trimmed) < 0) {
      this.#trimmedUnread()
    }
  }

  /** Events after the last one read were trimmed before this process read them. */
  #trimmedUnread(): void {
    this.#onError(
      new RedisStoreError(
        `events after ${this.#lastId} were trimmed from ${this.key} before this process read ` +
          'them: local streams resume from the store',
      ),
    )
    this.#gap()
  }

  /** Tells the subscribers that the feed skipped events. */
  #gap(): void {
    for (const onGap of this.#gapListeners) {
      try {
        onGap()
      } catch (error) {
        this.#onError(error)
      }
    }
  }

  #dispatch(event: StoredEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch (error) {
        this.#onError(error)
      }
    }
  }

  /** Reports the first error of each outage (ioredis emits one per reconnection attempt). */
  #watch(client: Redis): void {
    let down = false
    client.on('ready', () => {
      down = false
    })
    client.on('error', (error: Error) => {
      if (down || this.#stop.signal.aborted) return
      down = true
      this.#onError(fail('lost the connection to Redis, reconnecting', error))
    })
  }
}

/**
 * A client to share, told from options by what it can do rather than by `instanceof`: the
 * application's ioredis may be another copy or major (5 or 6) than the one this package loads,
 * and mistaking its client for options would silently connect to localhost instead.
 */
function isClient(redis: RedisStoreOptions['redis']): redis is Redis {
  const candidate = redis as Partial<Redis> | undefined
  return (
    typeof candidate === 'object' &&
    typeof candidate.duplicate === 'function' &&
    typeof candidate.xread === 'function' &&
    typeof candidate.status === 'string'
  )
}

function fail(message: string, cause: unknown): RedisStoreError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new RedisStoreError(`${message}: ${reason}`, { cause })
}

function toEvent([id, fields]: Entry): StoredEvent {
  const event: { -readonly [K in keyof StoredEvent]: StoredEvent[K] } = { id, data: '' }
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!
    switch (fields[i]) {
      case 'd':
        event.data = value
        break
      case 'e':
        event.event = value
        break
      case 't':
        event.topic = value
        break
      case 'k':
        event.key = value
        break
    }
  }
  return event
}

function parseInfo(reply: unknown): StreamInfo {
  const fields = reply as unknown[]
  const info = new Map<string, unknown>()
  for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1])
  const last = String(info.get('last-generated-id') ?? '0-0')
  const first = info.get('first-entry') as Entry | null | undefined
  // The first entry's predecessor is the newest trimmed id; entries added by another writer
  // have no `p`, and then only the first entry itself is known to be retained.
  let trimmed = first ? (fieldOf(first[1], 'p') ?? first[0]) : last
  const deleted = info.get('max-deleted-entry-id') // Redis 7+: XDEL
  if (typeof deleted === 'string' && compareIds(deleted, trimmed) > 0) trimmed = deleted
  const origin = first ? fieldOf(first[1], 'o') : undefined
  return { last, trimmed, origin: origin === '' ? first![0] : origin }
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}

function missing(error: unknown): StreamInfo {
  if (error instanceof Error && /no such key/i.test(error.message)) return EMPTY
  throw error
}

const readiness = new WeakMap<Redis, Promise<boolean>>()

/**
 * Resolves true when `client` is ready, false on its end or after `ms`. Waiters share one pair
 * of listeners per client, so a burst of publishes during an outage adds none.
 */
async function whenReady(client: Redis, ms: number): Promise<boolean> {
  if (client.status === 'ready') return true
  if (client.status === 'end') return false
  if (client.status === 'wait') client.connect().catch(() => {})
  let shared = readiness.get(client)
  if (!shared) {
    shared = new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        readiness.delete(client)
        client.off('ready', onReady)
        client.off('end', onEnd)
        resolve(ok)
      }
      const onReady = () => done(true)
      const onEnd = () => done(false)
      client.once('ready', onReady)
      client.once('end', onEnd)
    })
    readiness.set(client, shared)
  }
  return within(shared, ms)
}

/** Resolves with what `promise` resolves to, or false if that takes more than `ms`. */
async function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms))
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
