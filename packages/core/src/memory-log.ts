import type { StoredEvent } from './store'

interface Entry {
  event: StoredEvent
  seq: number
  at: number
  size: number
}

/** One log of a {@link MemoryStore}: its retained events and what it knows of those it dropped. */
export class MemoryLog {
  /** The sequence number this record began at: the log had no event after it before then. */
  readonly origin: number
  /** The sequence number of its last event, or `origin` while it has none. */
  last: number
  /** The sequence number of the last event dropped (0 while none was): a cursor before it lost events. */
  trimmed = 0
  /** When an event was last appended (or the record made). */
  touched: number
  #entries: Entry[] = []
  #head = 0
  #bytes = 0

  constructor(origin: number, now: number) {
    this.origin = origin
    this.last = origin
    this.touched = now
  }

  get size(): number {
    return this.#entries.length - this.#head
  }

  push(event: StoredEvent, seq: number, now: number): void {
    const size = event.data.length + (event.event?.length ?? 0)
    this.#entries.push({ event, seq, at: now, size })
    this.#bytes += size
    this.last = seq
    this.touched = now
  }

  /** Drops the oldest events until the log is within its bounds. */
  trim(maxEvents: number, maxBytes: number, oldest: number): void {
    while (this.size > 0) {
      const first = this.#entries[this.#head]!
      if (this.size <= maxEvents && this.#bytes <= maxBytes && first.at >= oldest) break
      this.trimmed = first.seq
      this.#bytes -= first.size
      this.#head++
    }
    // Compact once the dropped prefix is half the array: amortised O(1) per event.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head)
      this.#head = 0
    }
  }

  /** The retained events after a sequence number, found by binary search. */
  after(seq: number): StoredEvent[] {
    let low = this.#head
    let high = this.#entries.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (this.#entries[mid]!.seq <= seq) low = mid + 1
      else high = mid
    }
    const out: StoredEvent[] = []
    for (let i = low; i < this.#entries.length; i++) out.push(this.#entries[i]!.event)
    return out
  }
}
