import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'

/**
 * The store's epoch: a random name kept in Redis (`${prefix}epoch`, set once with `SET NX` by
 * whichever process comes first), so that a Redis that lost everything gets a new one and old
 * cursors are recognised. It is read once, and again after every reconnect of the live feed.
 */
export class Epoch {
  readonly #client: Redis
  readonly #key: string
  #value: string | undefined

  constructor(client: Redis, key: string) {
    this.#client = client
    this.#key = key
  }

  /** The epoch as last read; undefined until the first read. */
  get known(): string | undefined {
    return this.#value
  }

  /** Reads the epoch from Redis, setting a fresh one if there is none yet. */
  async load(): Promise<string> {
    const key = this.#key
    const fresh = `${Date.now().toString(36)}${randomBytes(6).toString('hex')}`
    const [, value] = await Promise.all([this.#client.set(key, fresh, 'NX'), this.#client.get(key)])
    // Printable ASCII without '.': a cursor is made of dot-separated parts.
    this.#value = (value ?? fresh).replace(/[^!-~]|\./g, '_')
    return this.#value
  }

  /** Reads the epoch again; true when it differs from one read before (never on a first read). */
  async changed(): Promise<boolean> {
    const before = this.#value
    return before !== undefined && (await this.load()) !== before
  }
}
