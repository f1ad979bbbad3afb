import type { EventInput, EventStore, ReplayResult, StoredEvent } from './store'

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most events kept for replay.
   * @default 1000
   */
  maxEvents?: number
  /**
   * The most bytes of event data kept (counted as UTF-16 code units of data and name).
   * @default Infinity
   */
  maxBytes?: number
  /**
   * How long an event is kept, in milliseconds.
   * @default Infinity
   */
  maxAge?: number
}

/**
 * Eight random base-36 characters (about 41 bits): two stores started in the same millisecond
 * (a fast restart) still get different prefixes, so neither accepts the other's cursors.
 */
function randomSuffix(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8))
  let out = ''
  for (const byte of bytes) out += (byte % 36).toString(36)
  return out
}

interface Entry {
  event: StoredEvent
  seq: number
  at: number
  size: number
}

/**
 * The embedded event store: a bounded history in memory, with O(1) append and O(1) cursor
 * lookup. Ids look like `mh3x9k2qa7f0b2kz-42`: a prefix made from the store's creation time and a
 * random part, then a sequence number. A client that comes back to a restarted server presents
 * an id with another prefix and is told its history was lost (C21), never handed new events
 * under ids it has already seen.
 *
 * @example
 * ```ts
 * const hub = createHub({ store: new MemoryStore({ maxEvents: 5000, maxAge: 60_000 }) })
 * ```
 */
export class MemoryStore implements EventStore {
  readonly #prefix: string
  readonly #maxEvents: number
  readonly #maxBytes: number
  readonly #maxAge: number
  readonly #listeners = new Set<(event: StoredEvent) => void>()
  #entries: Entry[] = []
  #head = 0
  #seq = 0
  #bytes = 0

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxEvents = options.maxEvents ?? 1000
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY
    this.#maxAge = options.maxAge ?? Number.POSITIVE_INFINITY
    if (!(this.#maxEvents >= 0)) throw new RangeError('MemoryStore: maxEvents must be >= 0')
    this.#prefix = `${Date.now().toString(36)}${randomSuffix()}`
  }

  /** Number of events retained. */
  get size(): number {
    return this.#entries.length - this.#head
  }

  append(input: EventInput): StoredEvent {
    const seq = ++this.#seq
    const event: StoredEvent = { ...input, id: `${this.#prefix}-${seq}` }
    const size = input.data.length + (input.event?.length ?? 0)
    this.#entries.push({ event, seq, at: Date.now(), size })
    this.#bytes += size
    this.#trim()
    for (const listener of this.#listeners) listener(event)
    return event
  }

  replay(after: string | undefined): ReplayResult {
    this.#trimAge()
    const seq = after === undefined ? undefined : this.#parse(after)
    const first = this.#entries[this.#head]?.seq ?? this.#seq + 1
    if (seq === undefined || seq > this.#seq || seq < first - 1) {
      return { events: this.#slice(this.#head), lost: true }
    }
    return { events: this.#slice(this.#head + (seq - first + 1)), lost: false }
  }

  head(): string {
    return `${this.#prefix}-${this.#seq}`
  }

  subscribe(listener: (event: StoredEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  compare(a: string, b: string): number {
    const x = this.#parse(a)
    const y = this.#parse(b)
    if (x === undefined || y === undefined) return a < b ? -1 : a > b ? 1 : 0
    return x - y
  }

  /** The sequence number of one of this store's ids, or undefined for any other string. */
  #parse(id: string): number | undefined {
    const at = id.lastIndexOf('-')
    if (at !== this.#prefix.length || !id.startsWith(this.#prefix)) return undefined
    const digits = id.slice(at + 1)
    // 0 is the head of a store that has no event yet.
    if (!/^(?:0|[1-9][0-9]{0,15})$/.test(digits)) return undefined
    return Number(digits)
  }

  #slice(from: number): StoredEvent[] {
    const out: StoredEvent[] = []
    for (let i = from; i < this.#entries.length; i++) out.push(this.#entries[i]!.event)
    return out
  }

  #trim(): void {
    while (this.size > this.#maxEvents || this.#bytes > this.#maxBytes) this.#drop()
    this.#trimAge()
  }

  #trimAge(): void {
    if (this.#maxAge === Number.POSITIVE_INFINITY) return
    const oldest = Date.now() - this.#maxAge
    while (this.size > 0 && this.#entries[this.#head]!.at < oldest) this.#drop()
  }

  #drop(): void {
    this.#bytes -= this.#entries[this.#head]!.size
    this.#head++
    // Compact once the dropped prefix is half the array: amortised O(1) per event.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head)
      this.#head = 0
    }
  }
}
