import { type Cluster, Redis, type RedisOptions } from 'ioredis'
import { type RedisClient, RedisStoreError, type RedisStoreOptions } from './options'

/**
 * A client to share, told from options by what it can do rather than by `instanceof`: the
 * application's ioredis may be another copy or major (5 or 6) than the one this package loads,
 * and mistaking its client for options would silently connect to localhost instead. A `Cluster`
 * passes too: the store uses only commands both have, and keys of one log at a time.
 */
export function isClient(redis: RedisStoreOptions['redis']): redis is RedisClient {
  const candidate = redis as Partial<Redis> | undefined
  return (
    typeof candidate === 'object' &&
    typeof candidate.duplicate === 'function' &&
    typeof candidate.evalsha === 'function' &&
    typeof candidate.status === 'string'
  )
}

/**
 * The store's own connection. No offline queue and no retries per command: while Redis is down
 * an append fails (after offlineTimeout) instead of waiting in memory, and an append cut off by
 * a disconnect rejects instead of being sent again after the reconnect, which could store it
 * twice.
 */
export function openClient(redis: string | RedisOptions): Redis {
  const own = { enableOfflineQueue: false, maxRetriesPerRequest: 0 } satisfies RedisOptions
  return typeof redis === 'string' ? new Redis(redis, own) : new Redis({ ...redis, ...own })
}

/** A new connection like `client` (a Cluster's `duplicate` takes its startup nodes first). */
export function duplicate(client: Redis, options: Partial<RedisOptions>): Redis {
  if (client.isCluster) {
    const cluster = client as unknown as Cluster
    return cluster.duplicate(undefined, { enableOfflineQueue: options.enableOfflineQueue }) as never
  }
  return client.duplicate(options)
}

export function fail(message: string, cause: unknown): RedisStoreError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new RedisStoreError(`${message}: ${reason}`, { cause })
}

/**
 * Reports each outage once, whichever of the store's connections notices it first (ioredis
 * emits an error per connection and per reconnection attempt); the outage ends once every
 * connection that tried is ready again. A connection that never was ready reports that it
 * cannot connect, not that it lost its connection.
 */
export class Outages {
  readonly #clients = new Set<Redis>()
  readonly #connected = new WeakSet<Redis>()
  readonly #onError: (error: unknown) => void
  readonly #stopped: () => boolean
  #down = false

  constructor(onError: (error: unknown) => void, stopped: () => boolean) {
    this.#onError = onError
    this.#stopped = stopped
  }

  watch(client: Redis): void {
    this.#clients.add(client)
    if (client.status === 'ready') this.#connected.add(client)
    client.on('ready', () => {
      this.#connected.add(client)
      for (const other of this.#clients) {
        if (other.status !== 'ready' && other.status !== 'wait' && other.status !== 'end') return
      }
      this.#down = false
    })
    client.on('error', (error: Error) => this.report(client, error))
  }

  /** Reports a connection's failure, unless this outage was already reported. */
  report(client: Redis, error: unknown): void {
    if (this.#down || this.#stopped()) return
    this.#down = true
    const message = this.#connected.has(client)
      ? 'lost the connection to Redis, reconnecting'
      : 'cannot connect to Redis, retrying'
    this.#onError(fail(message, error))
  }

  forget(client: Redis): void {
    this.#clients.delete(client)
  }
}

const readiness = new WeakMap<Redis, Promise<boolean>>()

/**
 * Resolves true when `client` is ready, false on its end or after `ms`. Waiters share one pair
 * of listeners per client, so a burst of publishes during an outage adds none.
 */
export async function whenReady(client: Redis, ms: number): Promise<boolean> {
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
export async function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
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

/**
 * Pings `client` every `interval` ms while it is ready (and `active()`); a ping still unanswered
 * `interval` later means a dead connection that never reported itself (half-open TCP): it is
 * dropped, and ioredis reconnects. Returns the function that stops it.
 */
export function keepAlive(
  client: Redis,
  interval: number,
  active: () => boolean,
  outages: Outages,
): () => void {
  let pinging = false
  const timer = setInterval(async () => {
    if (pinging || client.status !== 'ready' || !active()) return
    pinging = true
    const dead = setTimeout(() => {
      if (!active()) return
      outages.report(client, new Error(`no answer to PING within ${interval} ms`))
      client.disconnect(true)
    }, interval)
    try {
      await client.ping()
    } catch {
      // Lost meanwhile: ioredis reconnects, and the outage is reported once.
    } finally {
      clearTimeout(dead)
      pinging = false
    }
  }, interval)
  timer.unref()
  return () => clearInterval(timer)
}

/** What a {@link StoreConnection} runs with (see StoreSettings). */
export interface ConnectionSettings {
  pingInterval: number
  offlineTimeout: number
  onError: (error: unknown) => void
}

/**
 * A store's connection for appends and reads: its outages reported once, kept alive with pings
 * when it is the store's own, waited for at most offlineTimeout before a command, and quit on
 * close (a shared client is the application's to close).
 */
export class StoreConnection {
  readonly client: Redis
  readonly outages: Outages
  readonly #owned: boolean
  readonly #offlineTimeout: number
  readonly #stop: AbortSignal

  constructor(client: Redis, owned: boolean, settings: ConnectionSettings, stop: AbortSignal) {
    this.client = client
    this.#owned = owned
    this.#offlineTimeout = settings.offlineTimeout
    this.#stop = stop
    // The store's own connection is dropped when it stops answering (a shared one is the
    // application's to watch).
    this.outages = new Outages(settings.onError, () => stop.aborted)
    this.outages.watch(client)
    if (owned) {
      const active = () => !stop.aborted
      const stopPinging = keepAlive(client, settings.pingInterval, active, this.outages)
      stop.addEventListener('abort', stopPinging)
    }
  }

  /** Undefined when Redis is usable now; else waits, at most offlineTimeout, for it. */
  usable(): Promise<void> | undefined {
    if (this.#stop.aborted) return Promise.reject(new RedisStoreError('the store is closed'))
    if (this.client.status === 'ready') return undefined
    return whenReady(this.client, this.#offlineTimeout).then((ready) => {
      if (!ready) {
        throw new RedisStoreError(
          `Redis is unreachable (connection ${this.client.status}); nothing was stored`,
        )
      }
    })
  }

  /** Quits the store's own connection, letting replies in flight arrive; not a shared one. */
  async close(): Promise<void> {
    if (!this.#owned) return
    // QUIT lets replies in flight arrive, but a dead connection would never answer it.
    const timer = setTimeout(() => this.client.disconnect(), 1000)
    await this.client.quit().catch(() => this.client.disconnect())
    clearTimeout(timer)
  }
}
