import type { DurableBackend } from './durable-store'

/** An event as the hub hands it to a store: fields already validated and data already text. */
export interface EventInput {
  /** The log it goes to: a topic's, a key's, or the hub-wide one (see the core README). */
  log: string
  /** The topic it was published to; undefined for events to a key alone or to everyone. */
  topic?: string
  /** Only streams opened with this key receive it (for example one user's tabs). */
  key?: string
  /** The event name; undefined for an unnamed (`message`) event. */
  event?: string
  /** The serialized data. */
  data: string
  /**
   * The trace context of the publish (see `PublishMessage.trace`), kept with the event so its
   * deliveries can link to it; never sent to clients. A store keeps it as an opaque string.
   */
  trace?: string
}

/** An event as a store hands it back: kept in its log, or live only. */
export interface StoredEvent extends EventInput {
  /**
   * Its position in its log, assigned by the store: printable ASCII without `.`, increasing
   * within the log, never repeating (C22). Undefined for an event published with
   * `history: false`, which is delivered live and never kept.
   */
  readonly position: string | undefined
}

/** What a store has of one log after a position. */
export interface LogReplay {
  /** Retained events of the log strictly after the position, oldest first (C20). */
  events: StoredEvent[]
  /**
   * True when events after the position are gone (trimmed or expired), or the position is not
   * one this log handed out: `events` then holds everything still retained (C21, C27).
   */
  lost: boolean
  /** The log's last position when it was read: `events` run up to it, the feed goes on after it. */
  head: string
}

/**
 * Where a hub keeps history and gets its live feed. History is kept per log (a topic, a key, or
 * the hub-wide log), each with its own positions and retention, so a resume reads only the logs
 * a stream follows (C27). {@link MemoryStore} is the embedded default; `@sse/redis` implements
 * the same contract for several processes. Every method may return a promise.
 */
export interface EventStore {
  /**
   * Names this store's history: it changes when the history is lost as a whole (a restarted
   * MemoryStore), so cursors from before are recognised as unusable instead of read as positions.
   * Printable ASCII without `.`.
   */
  epoch(): string | Promise<string>
  /**
   * Assigns each event the next position of its log, keeps it within the log's retention, and
   * feeds it to subscribers; the result is in the order of `inputs`.
   */
  append(inputs: readonly EventInput[]): readonly StoredEvent[] | Promise<readonly StoredEvent[]>
  /** Feeds events to subscribers (of every process sharing the store) without keeping them. */
  broadcast(inputs: readonly EventInput[]): void | Promise<void>
  /**
   * The retained events of `log` strictly after `after`; `undefined` (no usable cursor) reads
   * every retained event and is lost. `after` is client input: any string must be answered
   * (unknown ones are lost), never thrown on, and cost no more than the log's retention.
   */
  read(log: string, after: string | undefined): LogReplay | Promise<LogReplay>
  /**
   * The log's last position now (a log with no event yet has one too): a cursor made of heads
   * covers every event stored so far.
   */
  head(log: string): string | Promise<string>
  /**
   * Starts following a log: from now on its events reach `subscribe`'s listeners (a store may
   * feed every log anyway). Resolves with the log's last position: every event after it comes
   * through the feed. A log with no event yet has a position too, so that a cursor never has
   * gaps. Called once per log while a hub has streams that follow it.
   */
  follow(log: string): string | Promise<string>
  /** The hub no longer has streams that follow this log. */
  unfollow(log: string): void
  /**
   * Calls `listener` for every event of a followed log (appended or broadcast, by any process
   * sharing the store), in position order within each log. Returns the function that
   * unsubscribes.
   *
   * A store whose live feed can skip events of a log (a shared store trimmed, or restarted,
   * before this process read them) calls `onGap` with that log: the hub then ends the streams
   * that follow it, and each client resumes from the store, which tells it what was lost.
   */
  subscribe(listener: (event: StoredEvent) => void, onGap?: (log: string) => void): () => void
  /** Orders two positions of one log: negative when `a` came first, 0 when equal, positive after. */
  compare(a: string, b: string): number
  /** Records, leases and cancels of durable streams; a store without it cannot run them. */
  readonly durable?: DurableBackend
}
