import { type Bytes, toBytes } from './bytes'
import { checkEventName, encodeEvent, serializeData } from './encoder'
import { MemoryStore } from './memory-store'
import { type SessionOptions, type SseSession, sessionDefaults } from './session'
import { closeSessions, type ShutdownOptions } from './shutdown'
import type { EventStore, StoredEvent } from './store'
import type { EventMap, SseMessage } from './types'

/** Options of {@link createHub}: the store, limits, and defaults for every stream opened with the hub. */
export interface HubOptions extends SessionOptions {
  /**
   * Keeps history for resume and feeds live events.
   * @default new MemoryStore()
   */
  store?: EventStore
  /**
   * The largest event `publish` accepts, in UTF-8 bytes of data; larger ones throw a RangeError.
   * @default 262144 (256 KiB)
   */
  maxEventBytes?: number
  /**
   * Called when the store fails while a stream opens (the client is told to retry later).
   * @default console.error
   */
  onError?: (error: unknown) => void
  /**
   * The most streams open at once on this hub. Streams asked for beyond it are refused the way
   * `limitStatus` says, with `Retry-After`.
   * @default Infinity
   */
  maxStreams?: number
  /**
   * The most streams open at once per limit key (`limitKey`, else `key`: a user's tabs, or one
   * address). Streams without a key are not counted.
   * @default Infinity
   */
  maxStreamsPerKey?: number
  /**
   * How a stream over a limit is refused. `200` (the default) answers with a `retry:` and ends:
   * a browser's EventSource comes back by itself after that delay. `429` or `503` answer with a
   * JSON error: clients that read `Retry-After` wait and retry, but a browser's EventSource
   * treats any non-200 as final and stops (the page must create a new one).
   * @default 200
   */
  limitStatus?: 200 | 429 | 503
}

/** Who receives a published event. With neither field, every session of the hub does. */
export interface Target {
  /** Sessions that follow this topic. */
  topic?: string
  /** Sessions opened with this key (for example a user id); combined with `topic`, both must match. */
  key?: string
}

/** What a session follows, given when it opens. */
export interface Membership {
  /** Topics to receive (events published without a topic reach every session anyway). */
  topics?: readonly string[]
  /** The session's key, for events targeted at a key (for example a user id). */
  key?: string
  /** What `maxStreamsPerKey` counts by, for example the client's address; defaults to `key`. */
  limitKey?: string
}

/**
 * The arguments of {@link Hub.publish}: `(event, data, target?)` with data typed by the event
 * map, or `(message, target?)`. A union of tuples keeps `Hub<Events>` assignable to `Hub`.
 */
export type PublishArgs<M extends EventMap> =
  | { [K in keyof M & string]: [event: K, data: M[K], target?: Target] }[keyof M & string]
  | [message: SseMessage<M>, target?: Target]

interface Member {
  readonly session: SseSession
  readonly topics: ReadonlySet<string>
  readonly key: string | undefined
  readonly limitKey: string | undefined
  /** Live events held back while the replay runs; undefined once live. */
  pending: StoredEvent[] | undefined
  /** The last id sent by the replay: live events up to it are duplicates (a lagging feed). */
  floor: string | undefined
}

// Live events one resuming client may have waiting behind its replay before it counts as slow.
const MAX_PENDING = 10_000

/**
 * Broadcast and resume for many sessions: events are validated, stored (which assigns their
 * ids), encoded once, and the same bytes go to every subscriber. Open streams with the hub
 * (`openNodeStream(req, res, { hub, topics })`) to have them resume and receive broadcasts.
 *
 * @typeParam M - the application's {@link EventMap}, which types `publish`.
 */
export class Hub<M extends EventMap = EventMap> {
  /** The store that keeps history and assigns ids. */
  readonly store: EventStore
  /** Defaults applied to every stream opened with this hub. */
  readonly defaults: Readonly<SessionOptions>
  readonly #maxEventBytes: number
  readonly #onError: (error: unknown) => void
  readonly #all = new Set<Member>()
  readonly #byTopic = new Map<string, Set<Member>>()
  readonly #byKey = new Map<string, Set<Member>>()
  readonly #frames = new WeakMap<StoredEvent, Bytes>()
  readonly #perLimitKey = new Map<string, number>()
  readonly #maxStreams: number
  readonly #maxStreamsPerKey: number
  /** How streams over a limit are refused; see {@link HubOptions.limitStatus}. */
  readonly limitStatus: 200 | 429 | 503
  readonly #unsubscribe: () => void
  #closing = false

  constructor(options: HubOptions = {}) {
    const {
      store,
      maxEventBytes,
      onError,
      maxStreams,
      maxStreamsPerKey,
      limitStatus,
      ...defaults
    } = options
    this.store = store ?? new MemoryStore()
    this.defaults = defaults
    this.#maxEventBytes = maxEventBytes ?? 256 * 1024
    this.#maxStreams = maxStreams ?? Number.POSITIVE_INFINITY
    this.#maxStreamsPerKey = maxStreamsPerKey ?? Number.POSITIVE_INFINITY
    this.limitStatus = limitStatus ?? 200
    this.#onError = onError ?? ((error) => console.error('[@sse/core] event store failed:', error))
    this.#unsubscribe = this.store.subscribe(
      (event) => this.#deliver(event),
      () => this.#resync(),
    )
  }

  /** Number of open sessions. */
  get size(): number {
    return this.#all.size
  }

  /** True once {@link Hub.shutdown} was called: new streams are told to come back later. */
  get closing(): boolean {
    return this.#closing
  }

  /**
   * Publishes an event: the store assigns its id, and every matching session receives the same
   * encoded bytes. Resolves with the id once the store has it.
   *
   * @throws TypeError naming the field for an invalid event name or data, synchronously, before
   *   anything reaches the store; RangeError when the data is over `maxEventBytes`.
   * @example
   * ```ts
   * await hub.publish('tick', { n: 1 }, { topic: 'clock' })
   * await hub.publish({ event: 'notice', data: 'hi' }, { key: userId })
   * ```
   */
  publish(...args: PublishArgs<M>): Promise<string> {
    const [first, second, third] = args as [string | SseMessage, unknown, Target?]
    const named = typeof first === 'string'
    const message = (named ? { event: first, data: second } : first) as SseMessage
    const target = (named ? third : second) as Target | undefined
    if (message.id !== undefined) {
      throw new TypeError('Invalid SSE field "id": the store assigns the ids of published events')
    }
    if (message.retry !== undefined || message.comment !== undefined) {
      const field = message.retry !== undefined ? 'retry' : 'comment'
      throw new TypeError(
        `Invalid SSE field "${field}": published events carry only event and data`,
      )
    }
    const event = checkEventName(message.event)
    const data = serializeData(
      message.data ?? '',
      this.defaults.serialize ?? sessionDefaults.serialize,
    )
    this.#checkSize(data)
    const topic = checkTarget('topic', target?.topic)
    const key = checkTarget('key', target?.key)
    return Promise.resolve(this.store.append({ topic, key, event, data })).then(
      (stored) => stored.id,
    )
  }

  /**
   * Ends every open stream (after an optional farewell event) and refuses new ones with a
   * `retry:` and `Retry-After` so clients come back later, not never. Connections that have not
   * flushed within `grace` are dropped, so `server.close()` can complete (C18).
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    this.#closing = true
    await closeSessions(
      [...this.#all].map((member) => member.session),
      options,
    )
    this.#unsubscribe()
  }

  /**
   * Whether one more stream with this membership fits the hub's limits.
   * @internal
   */
  admits(membership: Membership): boolean {
    if (this.#all.size >= this.#maxStreams) return false
    const limitKey = membership.limitKey ?? membership.key
    return limitKey === undefined || (this.#perLimitKey.get(limitKey) ?? 0) < this.#maxStreamsPerKey
  }

  /**
   * Adds a session. With `resuming`, live events wait in a queue until {@link Hub.catchUp} has
   * sent the replay, so the switch from replay to live has no gap and no duplicate (C20).
   * @internal
   */
  join(session: SseSession, membership: Membership, resuming: boolean): Member {
    const member: Member = {
      session,
      topics: new Set(membership.topics),
      key: membership.key,
      limitKey: membership.limitKey ?? membership.key,
      pending: resuming ? [] : undefined,
      floor: undefined,
    }
    this.#all.add(member)
    for (const topic of member.topics) addTo(this.#byTopic, topic, member)
    if (member.key !== undefined) addTo(this.#byKey, member.key, member)
    if (member.limitKey !== undefined) {
      this.#perLimitKey.set(member.limitKey, (this.#perLimitKey.get(member.limitKey) ?? 0) + 1)
    }
    session.onClose(() => this.#leave(member))
    return member
  }

  /**
   * Sends the replayed events, then whatever went live meanwhile, then switches to live.
   * Waits for the client to drain between writes, so a large replay never floods memory.
   * @internal
   */
  async catchUp(member: Member, replayed: readonly StoredEvent[]): Promise<void> {
    const { session } = member
    let floor: string | undefined
    const send = async (event: StoredEvent) => {
      if (floor !== undefined && this.store.compare(event.id, floor) <= 0) return
      floor = event.id
      if (matches(member, event) && !session.write(this.#frame(event))) await session.drain()
    }
    for (const event of replayed) {
      if (session.closed) return
      await send(event)
    }
    while (member.pending && member.pending.length > 0) {
      const batch = member.pending
      member.pending = []
      for (const event of batch) {
        if (session.closed) return
        await send(event)
      }
    }
    member.pending = undefined
    member.floor = floor
  }

  /** Reports a store failure. @internal */
  reportError(error: unknown): void {
    this.#onError(error)
  }

  #checkSize(data: string): void {
    const max = this.#maxEventBytes
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: encode only when the length is unclear.
    if (data.length * 3 <= max) return
    const bytes = data.length > max ? data.length : toBytes(data).byteLength
    if (bytes > max) {
      throw new RangeError(`SSE event data is ${bytes} bytes, over maxEventBytes (${max})`)
    }
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
    const targets =
      event.topic !== undefined
        ? this.#byTopic.get(event.topic)
        : event.key !== undefined
          ? this.#byKey.get(event.key)
          : this.#all
    if (!targets || targets.size === 0) return
    let frame: Bytes | undefined
    for (const member of targets) {
      if (event.key !== undefined && member.key !== event.key) continue
      if (member.pending) {
        if (member.pending.push(event) > MAX_PENDING) member.session.close('slow-consumer')
        continue
      }
      if (member.floor !== undefined) {
        if (this.store.compare(event.id, member.floor) <= 0) continue
        member.floor = undefined
      }
      frame ??= this.#frame(event)
      member.session.write(frame)
    }
  }

  /** The live feed skipped events: every stream ends and resumes from the store. */
  #resync(): void {
    for (const member of [...this.#all]) member.session.close('resync')
  }

  #leave(member: Member): void {
    this.#all.delete(member)
    for (const topic of member.topics) removeFrom(this.#byTopic, topic, member)
    if (member.key !== undefined) removeFrom(this.#byKey, member.key, member)
    if (member.limitKey !== undefined) {
      const left = (this.#perLimitKey.get(member.limitKey) ?? 1) - 1
      if (left === 0) this.#perLimitKey.delete(member.limitKey)
      else this.#perLimitKey.set(member.limitKey, left)
    }
  }
}

/**
 * Whether an event published with a target reaches a stream with this membership: events without
 * a topic reach every stream, events with a key only streams opened with that key. The one place
 * this rule lives; adapters that deliver hub events their own way (NestJS Observables) use it.
 */
export function eventMatches(
  membership: { topics?: ReadonlySet<string> | readonly string[]; key?: string },
  event: Pick<StoredEvent, 'topic' | 'key'>,
): boolean {
  if (event.topic !== undefined) {
    const topics = membership.topics
    if (!topics) return false
    const has = 'has' in topics ? topics.has(event.topic) : topics.includes(event.topic)
    if (!has) return false
  }
  return event.key === undefined || event.key === membership.key
}

const matches = eventMatches

function checkTarget(field: 'topic' | 'key', value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value
  throw new TypeError(`Invalid publish target "${field}": expected a string, got ${typeof value}`)
}

function addTo(index: Map<string, Set<Member>>, name: string, member: Member): void {
  const set = index.get(name)
  if (set) set.add(member)
  else index.set(name, new Set([member]))
}

function removeFrom(index: Map<string, Set<Member>>, name: string, member: Member): void {
  const set = index.get(name)
  if (set?.delete(member) && set.size === 0) index.delete(name)
}

/**
 * Creates a {@link Hub}: broadcast by topic, to all, or to a key, with resume from a store.
 *
 * @example
 * ```ts
 * type Events = { tick: { n: number } }
 * const hub = createHub<Events>({ store: new MemoryStore({ maxEvents: 1000 }), heartbeat: 15_000 })
 * http.createServer(async (req, res) => {
 *   await openNodeStream(req, res, { hub, topics: ['clock'] })
 * })
 * setInterval(() => hub.publish('tick', { n: Date.now() }, { topic: 'clock' }), 1000)
 * ```
 */
export function createHub<M extends EventMap = EventMap>(options?: HubOptions): Hub<M> {
  return new Hub<M>(options)
}
