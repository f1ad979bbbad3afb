import type { EventInput, StoredEvent } from '@sse/core'
import { fields } from './messages'

/** The most events of one append script (one log), and the most characters of their fields. */
export interface BatchLimits {
  entries: number
  chars: number
}

/**
 * 1,000 events, or 1 MiB of fields: a batch then keeps Redis busy for a few milliseconds at
 * most (other clients wait meanwhile), and its feed message stays far below the Pub/Sub output
 * buffer limits (8 MiB soft by default). An event bigger than that goes alone.
 */
export const BATCH_LIMITS: BatchLimits = { entries: 1000, chars: 1 << 20 }

/**
 * Appends one log's batch: each event's fields in order; resolves with their positions, one per
 * event, or rejects with the error its callers get.
 */
export type SendBatch = (log: string, batch: readonly string[][]) => Promise<readonly string[]>

interface Waiting {
  input: EventInput
  fields: string[]
  chars: number
  resolve: (event: StoredEvent) => void
  reject: (error: unknown) => void
}

/**
 * Coalesces appends into one script call per log and batch. Appends queue per log until the
 * event loop's check phase (`setImmediate`): never a timer, so a lone event at a low rate waits
 * only for the current turn's other callbacks, while under load every append issued by that
 * turn's callbacks (the replies of one socket read, say) goes in one call. The batches of
 * different logs are separate calls (a log's keys may live on a Cluster slot of their own),
 * written together, so the client pipelines them. Batches of one log are sent in order on one
 * connection, so they run in order and the positions follow the order of the appends.
 * (ioredis' `enableAutoPipelining` on top of this measured slower, 55,000-60,000 appends/s
 * against 95,000-110,000 in bench/append.ts: the store does not set it.)
 */
export class AppendBatcher {
  readonly #send: SendBatch
  readonly #limits: BatchLimits
  #pending = new Map<string, Waiting[]>()
  #scheduled: NodeJS.Immediate | undefined

  constructor(send: SendBatch, limits: BatchLimits = BATCH_LIMITS) {
    this.#send = send
    this.#limits = limits
  }

  /** Queues an event for its log's next batch; resolves with it and its position. */
  add(input: EventInput): Promise<StoredEvent> {
    // The append script trims; a durable stream's log takes parts only through the lease check.
    if (input.log.charCodeAt(0) === 100) {
      return Promise.reject(new TypeError(`RedisStore: log ${input.log} is durable`))
    }
    const entry = fields(input)
    let chars = 0
    for (const field of entry) chars += field.length
    return new Promise<StoredEvent>((resolve, reject) => {
      const queue = this.#pending.get(input.log)
      const waiting = { input, fields: entry, chars, resolve, reject }
      if (queue) queue.push(waiting)
      else this.#pending.set(input.log, [waiting])
      this.#scheduled ??= setImmediate(() => this.flush())
    })
  }

  /** Sends every queued event now (also on close, before the connection quits). */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled)
    this.#scheduled = undefined
    const pending = this.#pending
    this.#pending = new Map()
    for (const [log, queue] of pending) {
      const { entries, chars } = this.#limits
      for (let start = 0; start < queue.length; ) {
        let end = start + 1
        let size = queue[start]!.chars
        while (end < queue.length && end - start < entries && size + queue[end]!.chars <= chars) {
          size += queue[end]!.chars
          end++
        }
        this.#run(log, queue.slice(start, end))
        start = end
      }
    }
  }

  /** Runs one batch; a failure rejects its callers only (each has its own promise). */
  #run(log: string, batch: Waiting[]): void {
    const entries = batch.map((waiting) => waiting.fields)
    this.#send(log, entries).then(
      (ids) => {
        for (const [i, waiting] of batch.entries()) {
          waiting.resolve({ ...waiting.input, position: ids[i]! })
        }
      },
      (error: unknown) => {
        for (const waiting of batch) waiting.reject(error)
      },
    )
  }
}
