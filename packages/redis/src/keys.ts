/**
 * The keys of one store. Each log has its own stream, `${prefix}{<log>}`, a small key with its
 * last position, `${prefix}{<log>}:m`, and a feed channel, `${prefix}{<log>}:f`; the log name,
 * with `%`, `{` and `}` percent-encoded so that a topic cannot end the tag early (and two names
 * never meet), is their hash tag: on Redis Cluster all three live in the log's slot (a script
 * touches only that slot), and different logs spread over the shards.
 */
export interface LogKeys {
  /** The log's stream: its retained events. */
  stream: string
  /**
   * Its last position and byte counts: outlives the stream, so a cursor is judged after the
   * stream expired.
   */
  meta: string
  /**
   * Its live feed's sharded Pub/Sub channel, `${stream}:f` (`${stream}:f:<db>` beyond database
   * 0: channels are one namespace for every database of a server).
   */
  channel: string
  /** A durable stream's log (`d<id>`): never trimmed by the store's retention, see durable.ts. */
  durable: boolean
}

/** The keys of a durable stream `<id>`, all in the slot of its log `d<id>` (see durable.ts). */
export interface DurableKeys extends LogKeys {
  /** Hash: `t` its ttl, `o` its owner, `k` its idempotency key's name, `e` ended, `c` cancelled. */
  record: string
  /** The producer's token, expiring with its lease (PX): Redis' clock decides who holds it. */
  lease: string
  /** The sharded channel its cancels go to (with the database number, as the feed's). */
  cancel: string
}

export class StoreKeys {
  /** The store's epoch (a random name of its history, set once with `SET NX`). */
  readonly epoch: string
  readonly #prefix: string
  readonly #db: string
  // Logs are few and asked for again and again (every append and read): keep their names.
  readonly #cache = new Map<string, LogKeys>()

  constructor(prefix: string, db = 0) {
    if (/[{}]/.test(prefix)) {
      throw new RangeError(`RedisStore: prefix must not contain '{' or '}', got ${prefix}`)
    }
    this.#prefix = prefix
    this.epoch = `${prefix}epoch`
    this.#db = db === 0 ? '' : `:${db}`
  }

  of(log: string): LogKeys {
    let keys = this.#cache.get(log)
    if (!keys) {
      const stream = `${this.#prefix}{${log.replace(/[%{}]/g, percent)}}`
      const durable = log.charCodeAt(0) === 100 // 'd', see durableLog in @sse/core
      keys = { stream, meta: `${stream}:m`, channel: `${stream}:f${this.#db}`, durable }
      if (this.#cache.size >= 10_000) this.#cache.clear()
      this.#cache.set(log, keys)
    }
    return keys
  }

  /** The keys of durable stream `id` (its log is `d<id>`). */
  durable(id: string): DurableKeys {
    const keys = this.of(`d${id}`)
    const { stream } = keys
    return {
      ...keys,
      record: `${stream}:r`,
      lease: `${stream}:l`,
      cancel: `${stream}:c${this.#db}`,
    }
  }

  /**
   * The key naming the stream an idempotency key started: `${prefix}{i<key>}`, a slot of its own
   * (no log name starts with `i`), so it cannot share a script with the stream's keys.
   */
  idempotency(key: string): string {
    return `${this.#prefix}{i${key.replace(/[%{}]/g, percent)}}`
  }
}

function percent(char: string): string {
  return char === '%' ? '%25' : char === '{' ? '%7B' : '%7D'
}
