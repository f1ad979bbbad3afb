import { MemoryDurables } from './memory-durable'
import { MemoryLog } from './memory-log'
import type { EventInput, EventStore, LogReplay, StoredEvent } from './store'

/** Options of {@link MemoryStore}: the retention of each log (a topic, a key, or everyone's). */
export interface MemoryStoreOptions {
  /**
   * The most events kept per log.
   * @default 1000
   */
  maxEvents?: number
  /**
   * The most bytes of event data kept per log (counted as UTF-16 code units of data and name).
   * @default 1048576 (1 MiB)
   */
  maxBytes?: number
  /**
   * How long an event is kept, in milliseconds. A log whose events have all expired is
   * forgotten; a cursor older than a forgotten log's last event is treated as lost.
   * @default 86400000 (24 h)
   */
  maxAge?: number
}

/**
 * Eight random base-36 characters (about 41 bits): two stores started in the same millisecond
 * (a fast restart) still get different epochs, so neither accepts the other's cursors.
 */
function randomSuffix(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8))
  let out = ''
  for (const byte of bytes) out += (byte % 36).toString(36)
  return out
}

function isDurable(log: string): boolean {
  return log.charCodeAt(0) === 100 // 'd', see durableLog
}

// A position is a sequence number in base 36; 10 digits stay below 2^53.
const POSITION = /^(?:0|[1-9a-z][0-9a-z]{0,9})$/

/**
 * The embedded event store: history in memory, one log per topic, key and the hub-wide events,
 * each bounded by `maxEvents`, `maxBytes` and `maxAge`. Append is O(1), a read is O(log n) plus
 * what it returns. Positions are one sequence number shared by every log (in base 36), and the
 * epoch is made from the store's creation time and a random part: a client that comes back to
 * a restarted server presents another epoch and is told its history was lost (C21).
 *
 * @example
 * ```ts
 * const hub = createHub({ store: new MemoryStore({ maxEvents: 5000, maxAge: 60_000 }) })
 * ```
 */
export class MemoryStore implements EventStore {
  readonly #epoch: string
  readonly #maxEvents: number
  readonly #maxBytes: number
  readonly #maxAge: number
  readonly #listeners = new Set<(event: StoredEvent) => void>()
  // In order of last use, least recent first: the idle logs to forget are at the front.
  readonly #logs = new Map<string, MemoryLog>()
  #seq = 0
  /** Durable streams: their logs are kept apart, never trimmed, and expire with their record. */
  readonly durable = new MemoryDurables(
    (log, inputs, now) => this.#push(log, inputs, now),
    () => this.#seq,
  )
  // The last position of the logs forgotten so far: an older cursor may have missed their events.
  #forgotten = 0

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxEvents = options.maxEvents ?? 1000
    this.#maxBytes = options.maxBytes ?? 1024 * 1024
    this.#maxAge = options.maxAge ?? 24 * 60 * 60 * 1000
    for (const name of ['maxEvents', 'maxBytes', 'maxAge'] as const) {
      const value = options[name]
      if (value !== undefined && !(value >= 0)) {
        throw new RangeError(`MemoryStore: ${name} must be a number >= 0, got ${value}`)
      }
    }
    this.#epoch = `${Date.now().toString(36)}${randomSuffix()}`
  }

  /** Number of events retained, over every log. */
  get size(): number {
    let size = 0
    for (const log of this.#logs.values()) size += log.size
    return size
  }

  /** Number of logs kept (a log is forgotten once all its events expired). */
  get logs(): number {
    return this.#logs.size
  }

  epoch(): string {
    return this.#epoch
  }

  append(inputs: readonly EventInput[]): StoredEvent[] {
    const now = Date.now()
    this.#forget(now)
    const events: StoredEvent[] = []
    for (const input of inputs) {
      // A durable stream's log takes parts only through `durable`, which checks the lease.
      if (isDurable(input.log)) throw new TypeError(`MemoryStore: log ${input.log} is durable`)
      const seq = ++this.#seq
      const event: StoredEvent = { ...input, position: seq.toString(36) }
      const log = this.#log(input.log, now)
      log.push(event, seq, now)
      log.trim(this.#maxEvents, this.#maxBytes, now - this.#maxAge)
      events.push(event)
    }
    for (const event of events) for (const listener of this.#listeners) listener(event)
    return events
  }

  #push(log: MemoryLog, inputs: readonly EventInput[], now: number): StoredEvent[] {
    const events: StoredEvent[] = []
    for (const input of inputs) {
      const seq = ++this.#seq
      const event: StoredEvent = { ...input, position: seq.toString(36) }
      log.push(event, seq, now)
      events.push(event)
    }
    for (const event of events) for (const listener of this.#listeners) listener(event)
    return events
  }

  broadcast(inputs: readonly EventInput[]): void {
    for (const input of inputs) {
      const event: StoredEvent = { ...input, position: undefined }
      for (const listener of this.#listeners) listener(event)
    }
  }

  read(name: string, after: string | undefined): LogReplay {
    const now = Date.now()
    this.#forget(now)
    const log = this.#log(name, now, false)
    if (!isDurable(name)) log.trim(this.#maxEvents, this.#maxBytes, now - this.#maxAge)
    const head = log.last.toString(36)
    const seq = after !== undefined && POSITION.test(after) ? Number.parseInt(after, 36) : undefined
    if (seq === undefined || seq > log.last) return { events: log.after(0), lost: true, head }
    // Before this log's record began: only a forgotten log with later events can have been lost.
    const lost = seq < log.trimmed || (seq < log.origin && seq < this.#forgotten)
    return { events: log.after(seq), lost, head }
  }

  head(name: string): string {
    return this.#log(name, Date.now(), false).last.toString(36)
  }

  follow(name: string): string {
    return this.head(name)
  }

  unfollow(): void {}

  subscribe(listener: (event: StoredEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  compare(a: string, b: string): number {
    const x = POSITION.test(a) ? Number.parseInt(a, 36) : Number.NaN
    const y = POSITION.test(b) ? Number.parseInt(b, 36) : Number.NaN
    if (Number.isNaN(x) || Number.isNaN(y)) return a < b ? -1 : a > b ? 1 : 0
    return x - y
  }

  /**
   * A log's record, created on first use (a log with no event has the current sequence number
   * as its position, so every cursor names a position for each of its logs). `touch` moves it to
   * the back of the idle order: appends do, reads do not, so a log nobody writes to expires.
   */
  #log(name: string, now: number, touch = true): MemoryLog {
    if (isDurable(name)) return this.durable.log(name.slice(1), now)
    let log = this.#logs.get(name)
    if (log && touch) this.#logs.delete(name)
    log ??= new MemoryLog(this.#seq, now)
    if (touch || !this.#logs.has(name)) this.#logs.set(name, log)
    return log
  }

  /** Forgets logs idle for longer than maxAge: all their events have expired. */
  #forget(now: number): void {
    for (const [name, log] of this.#logs) {
      if (log.touched >= now - this.#maxAge) return
      this.#forgotten = Math.max(this.#forgotten, log.last)
      this.#logs.delete(name)
    }
  }
}
