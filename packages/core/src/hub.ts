import { reportPublish, reportStoreError } from './diagnostics'
import type { HubOptions, PublishArgs } from './hub-options'
import { logsOf } from './logs'
import type { Member, Membership } from './members'
import { MemoryStore } from './memory-store'
import { type StreamOptions, streamDefaults } from './options'
import { type PublishCall, publishInput } from './publish-input'
import { Router } from './router'
import { endStreams, type ShutdownOptions } from './shutdown'
import type { Start } from './start'
import type { EventStore, StoredEvent } from './store'
import type { SseStream } from './stream'
import type { EventMap } from './types'
import { encodeVector, layoutOf } from './vector'

/** What core's `openStream` does with a hub, beyond its public methods. */
export interface HubInternals {
  defaults(hub: Hub): Readonly<StreamOptions>
  limitResponse(hub: Hub): 'retry' | 429 | 503
  /** The limit a stream with this membership would go over; undefined when it fits. */
  refusal(hub: Hub, membership: Membership): 'maxStreams' | 'maxStreamsPerClient' | undefined
  /** Adds a stream; live events wait in its queue until {@link HubInternals.catchUp}. */
  join(hub: Hub, stream: SseStream, membership: Membership, durable?: string): Member
  /**
   * Reads where a joined stream starts: from its cursor, from nothing (`null`: it sent an
   * unusable one) or as a new client (`undefined`).
   */
  start(hub: Hub, member: Member, cursor: string | null | undefined): Promise<Start>
  /** The cursor of a layout at these positions. */
  cursor(hub: Hub, member: Member, positions: readonly (string | undefined)[]): string
  /** Sends the replay, then the held-back live events, then switches the stream to live. */
  catchUp(hub: Hub, member: Member, start: Start): Promise<void>
  reportError(hub: Hub, error: unknown): void
  /** Checks an event as `publish` does (name, data within `maxEventBytes`) and serializes it. */
  eventInput(hub: Hub, args: unknown[]): { event?: string; data: string }
}

/** Filled in by {@link Hub}'s static block; no entry point exports it. */
export const hubInternals = {} as HubInternals

function report(error: unknown): void {
  console.error('[@sse/core]', error)
}

/**
 * Broadcast and resume for many streams: events are validated, stored in their topic's log
 * (which assigns their positions), encoded once per layout of streams, and the same bytes go to
 * every caught-up stream that follows the same logs. Open streams with the hub
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
      refusal: (hub, membership) => hub.#router.members.refusal(membership),
      join: (hub, stream, membership, durable) => hub.#router.join(stream, membership, durable),
      start: (hub, member, cursor) => hub.#router.start(member.layout, cursor),
      cursor: (hub, member, positions) => hub.#router.cursor(member.layout, positions),
      catchUp: (hub, member, start) => hub.#router.catchUp(member, start),
      reportError: (hub, error) => hub.#onError(error),
      eventInput: (hub, args) => {
        const { inputs } = publishInput(args.slice(0, 2) as PublishCall, hub.#limits())
        return { event: inputs[0]!.event, data: inputs[0]!.data }
      },
    } satisfies HubInternals)
  }

  /** The store that keeps history and assigns positions. */
  readonly store: EventStore
  readonly #defaults: Readonly<StreamOptions>
  readonly #maxEventBytes: number
  readonly #onError: (error: unknown) => void
  readonly #limitResponse: 'retry' | 429 | 503
  readonly #router: Router
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
    this.#router = new Router(
      this,
      this.store,
      maxStreams ?? Number.POSITIVE_INFINITY,
      maxStreamsPerClient ?? Number.POSITIVE_INFINITY,
    )
    this.#limitResponse = limitResponse ?? 'retry'
    this.#onError = onError ?? report
    this.#unsubscribe = this.store.subscribe(
      (event) => this.#router.deliver(event),
      (log) => this.#router.resync(log),
    )
  }

  #limits() {
    const serialize = this.#defaults.serialize ?? streamDefaults.serialize
    return { serialize, maxEventBytes: this.#maxEventBytes }
  }

  /** Number of open streams. */
  get size(): number {
    return this.#router.members.all.size
  }

  /** True once {@link Hub.shutdown} was called: new streams are told to come back later. */
  get closing(): boolean {
    return this.#closing
  }

  /**
   * Publishes an event: the store keeps it in the log of its topic (or key, or the hub-wide
   * log) and every matching stream receives it. Resolves once the store has it.
   *
   * Never throws, and never crashes the process when nobody awaits it: an invalid event name,
   * data or option (TypeError naming it), data over `maxEventBytes` (RangeError) or a store
   * failure rejects the returned promise and is also reported to the hub's `onError`.
   *
   * @example
   * ```ts
   * await hub.publish('tick', { n: 1 }, { topic: 'clock' })
   * await hub.publish({ event: 'notice', data: 'hi' }, { key: userId })
   * await hub.publish('alert', 'storm', { topic: ['north', 'south'] })
   * await hub.publish('typing', { user: 'ann' }, { topic: 'room-1', history: false })
   * setInterval(() => hub.publish('tick', { n: Date.now() }), 1000) // fire and forget is safe
   * ```
   */
  publish(...args: PublishArgs<M>): Promise<void> {
    let stored: Promise<void>
    // Set once the event is valid: what fails after that is the store.
    let valid = false
    try {
      const { inputs, history } = publishInput(args as PublishCall, this.#limits())
      reportPublish(this, inputs, history)
      valid = true
      stored = Promise.resolve(
        history ? this.store.append(inputs) : this.store.broadcast(inputs),
      ).then(() => undefined)
    } catch (error) {
      stored = Promise.reject(error)
    }
    // Handled here, so a publish nobody awaits never becomes an unhandled rejection; a caller
    // that awaits still gets the rejection.
    stored.catch((error: unknown) => {
      if (valid) reportStoreError(this, error, 'publish')
      this.#onError(error)
    })
    return stored
  }

  /**
   * The cursor of a stream with this membership that has seen every event stored so far: a client that
   * opens its stream with it (as `Last-Event-ID` or the `lastEventId` query parameter) gets
   * every later event. Render it with a snapshot of the state, and the page's stream continues
   * exactly where the snapshot ends.
   *
   * @example
   * ```ts
   * const cursor = await hub.cursor({ topics: ['scores'] })
   * const html = renderPage(await loadScores(), `/events?lastEventId=${encodeURIComponent(cursor)}`)
   * ```
   */
  async cursor(membership: Membership = {}): Promise<string> {
    const logs = logsOf(membership.topics ?? [], membership.key)
    const epoch = await this.#router.readEpoch()
    const heads = await Promise.all(logs.map((log) => this.store.head(log)))
    return encodeVector(layoutOf(logs), epoch, heads)
  }

  /**
   * Calls `listener` with each live event that streams of this membership receive (events to
   * everyone, to its topics and to its key), published on any instance that shares the store,
   * from when the store follows those logs; returns the function that stops it. No replay and
   * no ids: for code that reacts to events (a NestJS Observable outside a route, a bridge to a
   * queue); a client's stream gets replay and cursors by opening with the hub. What `listener`
   * throws goes to the hub's `onError`.
   *
   * @example
   * ```ts
   * const stop = hub.watch({ topics: ['orders'] }, (event) => audit(event.event, event.data))
   * ```
   */
  watch(membership: Membership, listener: (event: StoredEvent) => void): () => void {
    const onError = (error: unknown) => this.#onError(error)
    return this.#router.watch(
      membership,
      (event) => {
        try {
          listener(event)
        } catch (error) {
          onError(error)
        }
      },
      onError,
    )
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
      [...this.#router.members.all].map((member) => member.stream),
      options as ShutdownOptions,
    )
    this.#unsubscribe()
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
