import type { StoredEvent } from './store'
import type { SseStream } from './stream'

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

/** A stream of a hub, as the hub's routing sees it. */
export interface Member {
  readonly stream: SseStream
  readonly topics: ReadonlySet<string>
  readonly key: string | undefined
  readonly clientId: string | undefined
  /** Live events held back until the replay (or the cursor) is out; undefined once live. */
  pending: StoredEvent[] | undefined
  /** The last id sent by the replay: live events up to it are duplicates (a lagging feed). */
  floor: string | undefined
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
  readonly #byTopic = new Map<string, Set<Member>>()
  readonly #byKey = new Map<string, Set<Member>>()
  readonly #perClient = new Map<string, number>()
  readonly #maxStreams: number
  readonly #maxPerClient: number

  constructor(maxStreams: number, maxPerClient: number) {
    this.#maxStreams = maxStreams
    this.#maxPerClient = maxPerClient
  }

  /** Whether one more stream with this membership fits the limits. */
  admits(membership: Membership): boolean {
    if (this.all.size >= this.#maxStreams) return false
    const client = membership.clientId ?? membership.key
    return client === undefined || (this.#perClient.get(client) ?? 0) < this.#maxPerClient
  }

  add(member: Member): void {
    this.all.add(member)
    for (const topic of member.topics) addTo(this.#byTopic, topic, member)
    if (member.key !== undefined) addTo(this.#byKey, member.key, member)
    const client = member.clientId
    if (client !== undefined) this.#perClient.set(client, (this.#perClient.get(client) ?? 0) + 1)
  }

  remove(member: Member): void {
    this.all.delete(member)
    for (const topic of member.topics) removeFrom(this.#byTopic, topic, member)
    if (member.key !== undefined) removeFrom(this.#byKey, member.key, member)
    const client = member.clientId
    if (client !== undefined) {
      const left = (this.#perClient.get(client) ?? 1) - 1
      if (left === 0) this.#perClient.delete(client)
      else this.#perClient.set(client, left)
    }
  }

  /** The streams an event may reach; a keyed event still needs the key checked per member. */
  candidates(event: StoredEvent): ReadonlySet<Member> | undefined {
    if (event.topic !== undefined) return this.#byTopic.get(event.topic)
    if (event.key !== undefined) return this.#byKey.get(event.key)
    return this.all
  }
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
