import { logsOf } from './logs'
import type { StoredEvent } from './store'
import type { SseStream } from './stream'
import { layoutOf } from './vector'

/** What a stream follows, given when it opens. */
export interface Membership {
  /** Topics to receive (events published without a topic reach every stream anyway). */
  topics?: readonly string[]
  /** The stream's key, for events published to a key (for example a user id). */
  key?: string
  /**
   * Who the client is for the hub's `maxStreamsPerClient`, for example its address or user id.
   * @default key
   */
  clientId?: string
}

/**
 * The streams of a hub that follow the same logs. Once caught up they hold the same cursor, so
 * each event is encoded once for all of them.
 */
export interface Layout {
  /** The logs, sorted: the order of positions in the cursor. */
  readonly logs: readonly string[]
  /** A hash of `logs`, the cursor's first part. */
  readonly tag: string
  readonly members: Set<Member>
}

/** A stream of a hub, as the hub's routing sees it. */
export interface Member {
  readonly stream: SseStream
  readonly topics: ReadonlySet<string>
  readonly key: string | undefined
  readonly clientId: string | undefined
  readonly layout: Layout
  /** Live events held back until the replay (or the cursor) is out; undefined once live. */
  pending: StoredEvent[] | undefined
  /**
   * The positions this stream has seen, per log of its layout, while they differ from the
   * hub's (its replay read ahead of a lagging feed); undefined once they are the hub's.
   */
  vector: (string | undefined)[] | undefined
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

/** A hub's streams, indexed by topic and key, with its limits: O(1) join and leave. */
export class Members {
  readonly all = new Set<Member>()
  readonly #layouts = new Map<string, Layout>()
  readonly #byLog = new Map<string, Set<Layout>>()
  readonly #perClient = new Map<string, number>()
  readonly #maxStreams: number
  readonly #maxPerClient: number

  constructor(maxStreams: number, maxPerClient: number) {
    this.#maxStreams = maxStreams
    this.#maxPerClient = maxPerClient
  }

  /** The limit one more stream with this membership would go over; undefined when it fits. */
  refusal(membership: Membership): 'maxStreams' | 'maxStreamsPerClient' | undefined {
    if (this.all.size >= this.#maxStreams) return 'maxStreams'
    const client = membership.clientId ?? membership.key
    if (client === undefined || (this.#perClient.get(client) ?? 0) < this.#maxPerClient) return
    return 'maxStreamsPerClient'
  }

  /** The layout of streams with these topics and key, shared with the streams that have it. */
  layout(topics: Iterable<string>, key: string | undefined, durable?: string): Layout {
    // A durable stream's reader follows its log alone: nothing else published reaches it.
    const logs = durable === undefined ? logsOf(topics, key) : [durable]
    const name = logs.join('\n')
    let layout = this.#layouts.get(name)
    if (!layout) {
      layout = { logs, tag: layoutOf(logs), members: new Set() }
      this.#layouts.set(name, layout)
      for (const log of logs) addTo(this.#byLog, log, layout)
    }
    return layout
  }

  add(member: Member): void {
    this.all.add(member)
    member.layout.members.add(member)
    const client = member.clientId
    if (client !== undefined) this.#perClient.set(client, (this.#perClient.get(client) ?? 0) + 1)
  }

  remove(member: Member): void {
    this.all.delete(member)
    const { layout } = member
    if (layout.members.delete(member) && layout.members.size === 0) {
      this.#layouts.delete(layout.logs.join('\n'))
      for (const log of layout.logs) removeFrom(this.#byLog, log, layout)
    }
    const client = member.clientId
    if (client !== undefined) {
      const left = (this.#perClient.get(client) ?? 1) - 1
      if (left === 0) this.#perClient.delete(client)
      else this.#perClient.set(client, left)
    }
  }

  /** The layouts that follow a log; a keyed event still needs the key checked per member. */
  layoutsOf(log: string): ReadonlySet<Layout> | undefined {
    return this.#byLog.get(log)
  }

  /** The streams that follow a log. */
  *following(log: string): Iterable<Member> {
    for (const layout of this.#byLog.get(log) ?? []) yield* layout.members
  }
}

function addTo<T>(index: Map<string, Set<T>>, name: string, item: T): void {
  const set = index.get(name)
  if (set) set.add(item)
  else index.set(name, new Set([item]))
}

function removeFrom<T>(index: Map<string, Set<T>>, name: string, item: T): void {
  const set = index.get(name)
  if (set?.delete(item) && set.size === 0) index.delete(name)
}
