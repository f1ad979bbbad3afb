import type { DurableBackend, DurableInit, DurableState } from './durable-store'
import { MemoryLog } from './memory-log'
import type { EventInput, StoredEvent } from './store'

interface Record {
  readonly owner: string | undefined
  readonly idempotencyKey: string | undefined
  readonly ttl: number
  readonly log: MemoryLog
  /** The producer's token while the stream runs; undefined once it ended. */
  token: string | undefined
  leaseUntil: number
  expiresAt: number
}

/** Appends inputs to a log of the store and feeds them to its subscribers. */
export type Push = (log: MemoryLog, inputs: readonly EventInput[], now: number) => StoredEvent[]

/**
 * The durable streams of a {@link MemoryStore}: one process, so the lease is the producer's own
 * timer and a cancel is a call. A stream's log is never trimmed; it and its record are
 * forgotten `ttl` after the last write.
 */
export class MemoryDurables implements DurableBackend {
  readonly #records = new Map<string, Record>()
  readonly #byKey = new Map<string, string>()
  readonly #listeners = new Set<(id: string) => void>()
  readonly #push: Push
  readonly #origin: () => number
  // Expired records nobody reads again are swept when the map doubles: amortised O(1).
  #sweepAt = 1024

  /**
   * @param push - appends to a log with the store's positions
   * @param origin - the store's current sequence number: where a new log begins
   */
  constructor(push: Push, origin: () => number) {
    this.#push = push
    this.#origin = origin
  }

  /** The log of a stream, or an empty one not kept when the stream is unknown. */
  log(id: string, now: number): MemoryLog {
    return this.#record(id, now)?.log ?? new MemoryLog(this.#origin(), now)
  }

  create(init: DurableInit): { id: string; created: boolean } {
    const now = Date.now()
    if (this.#records.size >= this.#sweepAt) {
      for (const id of this.#records.keys()) this.#record(id, now)
      this.#sweepAt = Math.max(1024, 2 * this.#records.size)
    }
    const key = init.idempotencyKey
    const running = key === undefined ? undefined : this.#byKey.get(key)
    if (running !== undefined && this.#record(running, now)) return { id: running, created: false }
    this.#records.set(init.id, {
      owner: init.owner,
      idempotencyKey: key,
      ttl: init.ttl,
      log: new MemoryLog(this.#origin(), now),
      token: init.token,
      leaseUntil: now + init.lease,
      expiresAt: now + init.ttl,
    })
    if (key !== undefined) this.#byKey.set(key, init.id)
    return { id: init.id, created: true }
  }

  state(id: string): DurableState | undefined {
    const now = Date.now()
    const record = this.#record(id, now)
    if (!record) return undefined
    const ended = record.token === undefined
    return { owner: record.owner, ended, orphaned: !ended && record.leaseUntil <= now }
  }

  renew(id: string, token: string, lease: number): boolean {
    const now = Date.now()
    const record = this.#held(id, token, now)
    if (record) record.leaseUntil = now + lease
    return record !== undefined
  }

  // `stored` goes unread: in one process a write that landed never fails, so none is retried.
  append(id: string, token: string, inputs: readonly EventInput[]): StoredEvent[] | undefined {
    const now = Date.now()
    const record = this.#held(id, token, now)
    if (!record) return undefined
    record.expiresAt = now + record.ttl
    return this.#push(record.log, inputs, now)
  }

  end(id: string, token: string | undefined, input: EventInput): StoredEvent | undefined {
    const now = Date.now()
    const record = token === undefined ? this.#orphaned(id, now) : this.#held(id, token, now)
    if (!record) return undefined
    record.token = undefined
    record.expiresAt = now + record.ttl
    return this.#push(record.log, [input], now)[0]
  }

  cancel(id: string): void {
    for (const listener of this.#listeners) listener(id)
  }

  onCancel(listener: (id: string) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** The record while `token` holds its lease. */
  #held(id: string, token: string, now: number): Record | undefined {
    const record = this.#record(id, now)
    if (!record || record.token !== token || record.leaseUntil <= now) return undefined
    return record
  }

  #orphaned(id: string, now: number): Record | undefined {
    const record = this.#record(id, now)
    if (!record || record.token === undefined || record.leaseUntil > now) return undefined
    return record
  }

  /** The record, forgotten (with its idempotency key) once it expired. */
  #record(id: string, now: number): Record | undefined {
    const record = this.#records.get(id)
    if (!record || record.expiresAt > now) return record
    this.#records.delete(id)
    const key = record.idempotencyKey
    if (key !== undefined && this.#byKey.get(key) === id) this.#byKey.delete(key)
    return undefined
  }
}
