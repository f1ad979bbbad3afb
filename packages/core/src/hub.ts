import { type Bytes, toBytes } from './bytes'
import { catchUp } from './catch-up'
import { encodeEvent } from './encoder'
import type { HubOptions, PublishArgs } from './hub-options'
import { type Member, Members, type Membership } from './members'
import { MemoryStore } from './memory-store'
import { type StreamOptions, streamDefaults } from './options'
import { type PublishCall, publishInput } from './publish-input'
import { endStreams, type ShutdownOptions } from './shutdown'
import type { EventStore, StoredEvent } from './store'
import { type SseStream, streamInternals } from './stream'
import type { EventMap } from './types'

/** What core's `openStream` does with a hub, beyond its public methods. */
export interface HubInternals {
  defaults(hub: Hub): Readonly<StreamOptions>
  limitResponse(hub: Hub): 'retry' | 429 | 503
  admits(hub: Hub, membership: Membership): boolean
  /** Adds a stream; live events wait in its queue until {@link HubInternals.catchUp}. */
  join(hub: Hub, stream: SseStream, membership: Membership): Member
  /** Sends the replay, then the held-back live events, then switches the stream to live. */
  catchUp(hub: Hub, member: Member, replayed: readonly StoredEvent[]): Promise<void>
  reportError(hub: Hub, error: unknown): void
}

/** Filled in by {@link Hub}'s static block; no entry point exports it. */
export const hubInternals = {} as HubInternals

// Live events one joining client may have waiting behind its replay before it counts as slow.
const MAX_PENDING = 10_000

function report(error: unknown): void {
  console.error('[@sse/core]', error)
}

/**
 * Broadcast and resume for many streams: events are validated, stored (which assigns their
 * ids), encoded once, and the same bytes go to every subscriber. Open streams with the hub
 * (`openNodeStream(req, res, { hub, topics })`) to have them resume and receive broadcasts.
 * Create one with {@link createHub}.
 *
 * @typeParam M - the application's {@link EventMap}, which types `publish`.
 */
// biome-ignore lint/suspicious/noExplicitAny: `any`, so that a hub of any event map is assignable to `Hub`
export class Hub<M extends EventMap = any> {
  static {
    Object.assign(hubInternals, {
      defaults: (hub) => hub.#defaults,
      limitResponse: (hub) => hub.#limitResponse,
      admits: (hub, membership) => hub.#members.admits(membership),
      join: (hub, stream, membership) => hub.#join(stream, membership),
      catchUp: (hub, member, replayed) =>
        catchUp(member, replayed, (event) => hub.#frame(event), hub.store.compare.bind(hub.store)),
      reportError: (hub, error) => hub.#onError(error),
    } satisfies HubInternals)
  }

  /** The store that keeps history and assigns ids. */
  readonly store: EventStore
  readonly #defaults: Readonly<StreamOptions>
  readonly #maxEventBytes: number
  readonly #onError: (error: unknown) => void
  readonly #limitResponse: 'retry' | 429 | 503
  readonly #members: Members
  readonly #frames = new WeakMap<StoredEvent, Bytes>()
  readonly #unsubscribe: () => void
  #closing = false

  /** @param options - see {@link HubOptions} */
  constructor(options: HubOptions = {}) {
    const {
      store,
      maxEventBytes,
      onError,
      maxStreams,
      maxStreamsPerClient,
      limitResponse,
      ...defaults
    } = options
    this.store = store ?? new MemoryStore()
    this.#defaults = defaults
    this.#maxEventBytes = maxEventBytes ?? 256 * 1024
    this.#members = new Members(
      maxStreams ?? Number.POSITIVE_INFINITY,
      maxStreamsPerClient ?? Number.POSITIVE_INFINITY,
    )
    this.#limitResponse = limitResponse ?? 'retry'
    this.#onError = onError ?? report
    this.#unsubscribe = this.store.subscribe(
      (event) => this.#deliver(event),
      () => this.#resync(),
    )
  }

  /** Number of open streams. */
  get size(): number {
    return this.#members.all.size
  }

  /** True once {@link Hub.shutdown} was called: new streams are told to come back later. */
  get closing(): boolean {
    return this.#closing
  }

  /**
   * Publishes an event: the store assigns its id, and every matching stream receives the same
   * encoded bytes. Resolves with the id once the store has it.
   *
   * Never throws, and never crashes the process when nobody awaits it: an invalid event name or
   * data (TypeError naming the field), data over `maxEventBytes` (RangeError) or a store failure
   * rejects the returned promise and is also reported to the hub's `onError`.
   *
   * @example
   * ```ts
   * await hub.publish('tick', { n: 1 }, { topic: 'clock' })
   * await hub.publish({ event: 'notice', data: 'hi' }, { key: userId })
   * setInterval(() => hub.publish('tick', { n: Date.now() }), 1000) // fire and forget is safe
   * ```
   */
  publish(...args: PublishArgs<M>): Promise<string> {
    let stored: Promise<string>
    try {
      const input = publishInput(args as PublishCall, {
        serialize: this.#defaults.serialize ?? streamDefaults.serialize,
        maxEventBytes: this.#maxEventBytes,
      })
      stored = Promise.resolve(this.store.append(input)).then((event) => event.id)
    } catch (error) {
      stored = Promise.reject(error)
    }
    // Handled here, so a publish nobody awaits never becomes an unhandled rejection; a caller
    // that awaits still gets the rejection.
    stored.catch((error: unknown) => this.#onError(error))
    return stored
  }

  /**
   * Ends every open stream of this hub (after an optional farewell event) and refuses new ones
   * with a `retry:` and `Retry-After` so clients come back later, not never. Connections that
   * have not flushed within `grace` are dropped, so `server.close()` can complete (C18). To end
   * streams opened without a hub too, use `closeStreams({ server })`.
   */
  async shutdown(options: ShutdownOptions<M> = {}): Promise<void> {
    this.#closing = true
    await endStreams(
      [...this.#members.all].map((member) => member.stream),
      options as ShutdownOptions,
    )
    this.#unsubscribe()
  }

  #join(stream: SseStream, membership: Membership): Member {
    const member: Member = {
      stream,
      topics: new Set(membership.topics),
      key: membership.key,
      clientId: membership.clientId ?? membership.key,
      pending: [],
      floor: undefined,
    }
    this.#members.add(member)
    streamInternals.onClose(stream, () => this.#members.remove(member))
    return member
  }

  #frame(event: StoredEvent): Bytes {
    let frame = this.#frames.get(event)
    if (!frame) {
      frame = toBytes(encodeEvent({ event: event.event, id: event.id, data: event.data }))
      this.#frames.set(event, frame)
    }
    return frame
  }

  #deliver(event: StoredEvent): void {
    const targets = this.#members.candidates(event)
    if (!targets || targets.size === 0) return
    let frame: Bytes | undefined
    for (const member of targets) {
      if (event.key !== undefined && member.key !== event.key) continue
      if (member.pending) {
        if (member.pending.push(event) > MAX_PENDING) {
          streamInternals.end(member.stream, 'slow-consumer')
        }
        continue
      }
      if (member.floor !== undefined) {
        if (this.store.compare(event.id, member.floor) <= 0) continue
        member.floor = undefined
      }
      frame ??= this.#frame(event)
      streamInternals.write(member.stream, frame)
    }
  }

  /** The live feed skipped events: every stream ends and resumes from the store. */
  #resync(): void {
    for (const member of [...this.#members.all]) streamInternals.end(member.stream, 'resync')
  }
}

/**
 * Creates a {@link Hub}: broadcast by topic, to all, or to a key, with resume from a store.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { createHub, MemoryStore } from '@sse/core'
 * import { openNodeStream } from '@sse/core/node'
 *
 * type Events = { tick: { n: number } }
 * const hub = createHub<Events>({ store: new MemoryStore({ maxEvents: 1000 }) })
 * createServer((req, res) => openNodeStream(req, res, { hub, topics: ['clock'] })).listen(3000)
 * setInterval(() => hub.publish('tick', { n: Date.now() }, { topic: 'clock' }), 1000)
 * ```
 */
export function createHub<M extends EventMap = EventMap>(options?: HubOptions): Hub<M> {
  return new Hub<M>(options)
}
