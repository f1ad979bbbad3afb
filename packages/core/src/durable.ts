import { errorInput, runProducer } from './durable-producer'
import type { DurableBackend, DurableState } from './durable-store'
import type {
  DurableRef,
  DurableRun,
  DurableStartOptions,
  DurableStreamsOptions,
} from './durable-types'
import { type Hub, hubInternals } from './hub'
import type { EventMap } from './types'

/** What opening a durable stream needs beyond the public methods; no entry point exports it. */
export const durableInternals = {} as {
  /** Checks the stream's producer while the returned function is not called (C30). */
  watch(streams: DurableStreams, id: string): () => void
}

// 22 base64url characters: 128 bits.
const ID = /^[A-Za-z0-9_-]{22}$/

function randomId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16))
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new TypeError(
      `Invalid durable streams option "${name}": expected a number > 0, got ${value}`,
    )
  }
  return value
}

/**
 * Durable streams on a hub: output (an LLM answer, a job's progress) that outlives the request
 * that started it. Every part is stored in the stream's own log before it is sent; any instance
 * sharing the store serves it by GET with `Last-Event-ID`, then live, then its `done` or
 * `error`, which ends it (C29, C30). Create with {@link createDurableStreams}.
 */
export class DurableStreams<M extends EventMap = EventMap> {
  static {
    durableInternals.watch = (streams, id) => streams.#watch(id)
  }

  /** The hub whose store keeps the streams. */
  readonly hub: Hub<M>
  readonly #backend: DurableBackend
  readonly #location: (id: string) => string
  readonly #ttl: number
  readonly #lease: number
  readonly #running = new Map<string, () => void>()
  // Streams this process has readers of, with how many: checked for a dead producer.
  readonly #watched = new Map<string, number>()
  #sweep: ReturnType<typeof setInterval> | undefined

  constructor(hub: Hub<M>, options: DurableStreamsOptions) {
    const backend = hub.store.durable
    if (!backend) throw new TypeError('Durable streams: the hub\'s store has no "durable" backend')
    if (typeof options?.location !== 'function') {
      throw new TypeError('Invalid durable streams option "location": expected a function')
    }
    this.hub = hub
    this.#backend = backend
    this.#location = options.location
    this.#ttl = positive('ttl', options.ttl, 24 * 60 * 60 * 1000)
    this.#lease = positive('lease', options.lease, 15_000)
    backend.onCancel((id) => this.#running.get(id)?.())
  }

  /**
   * Starts a stream (or, with an idempotency key already used, finds the one it started) and
   * runs `produce` detached. Open the request's response with the result as `durable`.
   *
   * @throws TypeError naming an invalid option.
   * @example
   * ```ts
   * app.post('/chat', async (req, res) => {
   *   const run = await chats.start({
   *     owner: req.user.id,
   *     idempotencyKey: req.get('Idempotency-Key'),
   *     produce: async (out, signal) => {
   *       for await (const token of model(req.body.prompt, { signal })) await out.send('token', token)
   *     },
   *   })
   *   res.sse({ durable: run })
   * })
   * ```
   */
  async start(options: DurableStartOptions<M>): Promise<DurableRun> {
    if (typeof options?.produce !== 'function') {
      throw new TypeError('Invalid durable stream option "produce": expected a function')
    }
    const owner = text('owner', options.owner)
    const idempotencyKey = text('idempotencyKey', options.idempotencyKey)
    const cancelOnDisconnect = options.cancelOnDisconnect ?? false
    if (typeof cancelOnDisconnect !== 'boolean') {
      throw new TypeError('Invalid durable stream option "cancelOnDisconnect": expected a boolean')
    }
    const token = randomId()
    const { id, created } = await this.#backend.create({
      id: randomId(),
      token,
      owner,
      idempotencyKey,
      ttl: this.#ttl,
      lease: this.#lease,
    })
    if (created) {
      const hub = this.hub
      const cancel = runProducer(
        {
          backend: this.#backend,
          id,
          token,
          lease: this.#lease,
          input: (args) => hubInternals.eventInput(hub, args),
          serialize: (data) => hubInternals.eventInput(hub, ['done', data]).data,
          reportError: (error) => hubInternals.reportError(hub, error),
        },
        async (out, signal) => {
          try {
            return await options.produce(out, signal)
          } finally {
            this.#running.delete(id)
          }
        },
      )
      this.#running.set(id, cancel)
    }
    return { ...this.get(id, { owner }), created, cancelOnDisconnect }
  }

  /**
   * A reference to open a stream by its id (from the route's path), for the owner given:
   * opening it answers 404 when the stream is unknown, expired, or another owner's.
   */
  get(id: string, options: { owner?: string | undefined } = {}): DurableRef {
    const owner = text('owner', options.owner)
    return { id, location: this.#location(id), owner, streams: this as DurableStreams }
  }

  /**
   * Cancels a stream wherever its producer runs: its signal aborts and the stream ends with
   * `error` (reason `cancelled`). False when there is no such stream of this owner.
   */
  async cancel(id: string, options: { owner?: string | undefined } = {}): Promise<boolean> {
    const state = await this.state(id, text('owner', options.owner))
    if (!state) return false
    if (!state.ended) await this.#backend.cancel(id)
    return true
  }

  /** The stream's record if `owner` may see it; undefined for a malformed id, without a store call. */
  async state(id: string, owner: string | undefined): Promise<DurableState | undefined> {
    if (typeof id !== 'string' || !ID.test(id)) return undefined
    const state = await this.#backend.state(id)
    if (!state || (state.owner !== undefined && state.owner !== owner)) return undefined
    if (state.orphaned) await this.#reap(id)
    return state
  }

  /** Checks, while this process has readers of the stream, that its producer is alive. */
  #watch(id: string): () => void {
    this.#watched.set(id, (this.#watched.get(id) ?? 0) + 1)
    this.#sweep ??= setInterval(() => {
      for (const id of this.#watched.keys()) {
        Promise.resolve(this.#backend.state(id))
          .then((state) => (state?.orphaned ? this.#reap(id) : undefined))
          .catch((error: unknown) => hubInternals.reportError(this.hub, error))
      }
    }, this.#lease)
    ;(this.#sweep as { unref?: () => void }).unref?.()
    return () => {
      const left = (this.#watched.get(id) ?? 1) - 1
      if (left > 0) return void this.#watched.set(id, left)
      this.#watched.delete(id)
      if (this.#watched.size === 0) {
        clearInterval(this.#sweep)
        this.#sweep = undefined
      }
    }
  }

  /** Ends an orphaned stream for its readers; only one process succeeds. */
  async #reap(id: string): Promise<void> {
    await this.#backend.end(id, undefined, errorInput(id, 'producer-lost'))
  }
}

function text(name: string, value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value
  throw new TypeError(
    `Invalid durable stream option "${name}": expected a string, got ${typeof value}`,
  )
}

/**
 * Creates {@link DurableStreams} on a hub whose store has a durable backend ({@link MemoryStore}
 * in one process, `RedisStore` across several).
 *
 * @example
 * ```ts
 * const hub = createHub<Events>()
 * const chats = createDurableStreams(hub, { location: (id) => `/chat/${id}` })
 * ```
 */
export function createDurableStreams<M extends EventMap>(
  hub: Hub<M>,
  options: DurableStreamsOptions,
): DurableStreams<M> {
  return new DurableStreams(hub, options)
}
