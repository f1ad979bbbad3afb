import { type Bytes, toBytes } from './bytes'
import { type Behind, catchUp, frameBehind, rejoin } from './catch-up'
import { reportSlowConsumer, reportStoreError } from './diagnostics'
import { channels } from './diagnostics-channels'
import { encodeEvent } from './encoder'
import { Follows } from './follows'
import type { Hub } from './hub'
import { isDurableLayout, isTerminal, logsOf, targetOf } from './logs'
import { eventMatches, type Layout, type Member, Members, type Membership } from './members'
import { type Start, startAtFirst, startFrom, startNew } from './start'
import type { EventStore, StoredEvent } from './store'
import { type SseStream, streamInternals } from './stream'
import { encodeVector } from './vector'

/** The topics of every stream that follows none (never changed: members' topics are read-only). */
const NO_TOPICS: ReadonlySet<string> = new Set()

// Live events one joining client may have waiting behind its replay before it counts as slow.
const MAX_PENDING = 10_000

/**
 * A hub's routing: its streams by layout, the logs they follow, where each starts, and the
 * delivery of live events (one encoding per layout for the streams that are caught up).
 */
export class Router {
  readonly members: Members
  /** The hub it routes for, as diagnostics messages name it. */
  readonly #hub: Hub
  readonly #store: EventStore
  readonly #follows: Follows
  readonly #behind: Behind
  // The store's epoch, known once a stream has opened (or a cursor was asked for).
  #epoch = ''

  constructor(hub: Hub, store: EventStore, maxStreams: number, maxPerClient: number) {
    this.#hub = hub
    this.#store = store
    this.members = new Members(maxStreams, maxPerClient)
    this.#follows = new Follows(store)
    const router = this
    this.#behind = {
      get epoch() {
        return router.#epoch
      },
      compare: (a, b) => store.compare(a, b),
      position: (log) => this.#follows.position(log),
    }
  }

  /** The cursor of a layout at these positions. */
  cursor(layout: { tag: string }, positions: readonly (string | undefined)[]): string {
    return encodeVector(layout.tag, this.#epoch, positions)
  }

  /** Sends the replay, then the held-back live events, then switches the stream to live. */
  catchUp(member: Member, start: Start): Promise<void> {
    member.vector = [...start.from]
    return catchUp(member, start.replayed, start.heads, this.#behind)
  }

  /** Adds a stream; `durable`, the log of the durable stream it reads instead of topics. */
  join(stream: SseStream, membership: Membership, durable?: string): Member {
    const wanted = durable === undefined ? membership.topics : undefined
    // Most streams follow no topic: they share one empty set rather than each holding its own.
    const given = wanted === undefined ? NO_TOPICS : new Set(wanted)
    const topics = given.size === 0 ? NO_TOPICS : given
    const member: Member = {
      stream,
      topics,
      key: membership.key,
      clientId: membership.clientId ?? membership.key,
      layout: this.members.layout(topics, membership.key, durable),
      pending: [],
      vector: undefined,
    }
    this.members.add(member)
    const following = this.#follows.acquire(member.layout.logs)
    following?.catch(() => {})
    streamInternals.onClose(stream, () => {
      this.members.remove(member)
      this.#follows.release(member.layout.logs)
    })
    return member
  }

  /**
   * Reads where a joined stream starts.
   * @param cursor - the `Last-Event-ID` to resume from; `null` for one that was unusable
   *   (malformed, too long: lost), `undefined` for a new client
   */
  async start(layout: Layout, cursor: string | null | undefined): Promise<Start> {
    const epoch = await this.readEpoch()
    // Once the hub follows every log, the feed brings whatever comes after the positions read.
    await this.#follows.ready(layout.logs)
    if (cursor === undefined) {
      if (isDurableLayout(layout)) return startAtFirst(this.#store, layout)
      return startNew(layout, (log) => this.#follows.position(log))
    }
    return startFrom(this.#store, layout, epoch, cursor ?? undefined)
  }

  /** Reads the store's epoch; a new one means the whole history is gone: every stream resumes. */
  async readEpoch(): Promise<string> {
    const epoch = await this.#store.epoch()
    if (epoch !== this.#epoch) {
      if (this.#epoch !== '') {
        for (const member of [...this.members.all]) {
          if (!member.pending) streamInternals.end(member.stream, 'resync')
        }
      }
      this.#epoch = epoch
    }
    return epoch
  }

  /**
   * The frame of an event for a layout's caught-up streams: the body every layout shares with
   * the layout's cursor as its id line, placed after the `event:` line as `encodeEvent` (and so
   * every replayed frame) places it. A layout of one stream (every stream with a key has a
   * layout of its own) gets the frame as text: slicing and joining the shared body is O(1), and
   * the socket encodes it as it writes, so the event's data, however large, is serialized once
   * per event rather than once per stream. A layout of several streams gets bytes they share.
   */
  #frame(layout: Layout, event: StoredEvent, body: string): string | Bytes {
    let frame = body
    if (event.position !== undefined) {
      const positions = layout.logs.map((log) => this.#follows.position(log))
      const id = `id: ${encodeVector(layout.tag, this.#epoch, positions)}\n`
      // The body starts with `event: <name>\n` when the event has a name (names hold no newline).
      const at = event.event === undefined ? 0 : event.event.length + 8
      frame = at === 0 ? id + body : body.slice(0, at) + id + body.slice(at)
    }
    return layout.members.size === 1 ? frame : toBytes(frame)
  }

  deliver(event: StoredEvent): void {
    const layouts = this.members.layoutsOf(event.log)
    if (!layouts) return
    if (event.position !== undefined && !this.#follows.advance(event.log, event.position)) return
    let body: string | undefined
    let streams = 0
    const terminal = isTerminal(event)
    for (const layout of layouts) {
      let frame: string | Bytes | undefined
      for (const member of layout.members) {
        if (member.pending) {
          const held = member.pending.push(event)
          if (held > MAX_PENDING) {
            reportSlowConsumer(member.stream, member.stream.bufferedBytes, held)
            streamInternals.end(member.stream, 'slow-consumer')
          }
          continue
        }
        if (member.vector) {
          const own = frameBehind(member, event, this.#behind)
          if (own) {
            streamInternals.write(member.stream, own)
            if (terminal) streamInternals.end(member.stream, 'done')
            streams++
          }
          rejoin(member, this.#behind)
          continue
        }
        if (event.key !== undefined && member.key !== event.key) continue
        body ??= encodeEvent({ event: event.event, data: event.data })
        frame ??= this.#frame(layout, event, body)
        streamInternals.write(member.stream, frame)
        if (terminal) streamInternals.end(member.stream, 'done')
        streams++
      }
    }
    // One message per event, not per stream; none built while nobody listens.
    if (channels.deliver.hasSubscribers) {
      channels.deliver.publish({ hub: this.#hub, event, streams })
    }
  }

  /**
   * Calls `listener` with the live events that match a membership, following its logs meanwhile
   * (counted with the streams', so a store that delivers only followed logs, as RedisStore
   * does, delivers these too); returns the function that stops it.
   */
  watch(
    membership: Membership,
    listener: (event: StoredEvent) => void,
    onError: (error: unknown) => void,
  ): () => void {
    const follows = { topics: new Set(membership.topics), key: membership.key }
    const logs = logsOf(follows.topics, membership.key)
    this.#follows.acquire(logs)?.catch((error: unknown) => {
      reportStoreError(this.#hub, error, 'watch')
      onError(error)
    })
    const off = this.#store.subscribe((event) => {
      if (eventMatches(follows, event)) listener(event)
    })
    let stopped = false
    return () => {
      if (stopped) return
      stopped = true
      off()
      this.#follows.release(logs)
    }
  }

  /** The live feed of a log skipped events: its streams end and resume from the store. */
  resync(log: string): void {
    this.#follows.restart(log)
    const members = [...this.members.following(log)]
    if (channels.feedGap.hasSubscribers) {
      channels.feedGap.publish({ hub: this.#hub, target: targetOf(log), streams: members.length })
    }
    for (const member of members) {
      streamInternals.end(member.stream, 'resync')
    }
  }
}
