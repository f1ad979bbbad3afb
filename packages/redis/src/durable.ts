import type { DurableBackend, DurableInit, DurableState, EventInput, StoredEvent } from '@sse/core'
import type { Redis } from 'ioredis'
import { fail, type Outages } from './connection'
import { DurableCancels } from './durable-cancels'
import { DurableScripts } from './durable-scripts'
import type { StoreKeys } from './keys'
import { RedisStoreError } from './options'

/** What the durable streams of a store share with it (its live feed's settings). */
export interface DurableSettings {
  client: Redis
  keys: StoreKeys
  pingInterval: number
  offlineTimeout: number
  outages: Outages
  onError: (error: unknown) => void
  stop: AbortSignal
}

// Stale idempotency keys replaced in a row before giving up: each needs another creator that
// took the key between two of our steps, for a stream that then expired at once.
const CLAIMS = 5

/**
 * The durable streams of a {@link RedisStore}, shared by every process on the same Redis (or
 * Redis Cluster) and prefix. A stream `<id>` is its log `d<id>` (the stream
 * `${prefix}{d<id>}`, read, followed and fed like any log, never trimmed) with, in the same slot,
 * its record (`:r`, a hash), its lease (`:l`, the producer's token with a `PX` expiry) and its
 * cancel channel (`:c`). Who holds the lease is decided by Redis' clock alone: the key expires
 * or it does not. Parts are appended by a script that checks the token first, so a producer
 * that lost its lease stores nothing (fencing), and a stream whose lease expired is ended by
 * exactly one reader. The log, its meta key and the record expire `ttl` after the last write.
 * An idempotency key is `${prefix}{i<key>}`, in a slot of its own (see
 * {@link RedisDurables.create}). A cancel marks the record and is published on the stream's
 * sharded channel, which the producer's process subscribes to while it runs it.
 */
export class RedisDurables implements DurableBackend {
  readonly #settings: DurableSettings
  readonly #scripts: DurableScripts
  readonly #cancels: DurableCancels

  /** @internal Made by {@link RedisStore}: use `store.durable`. */
  constructor(settings: DurableSettings) {
    this.#settings = settings
    this.#scripts = new DurableScripts(settings)
    this.#cancels = new DurableCancels(settings)
  }

  /**
   * Keeps the record, then points the idempotency key at it (`SET NX`). The two live in
   * different slots (the key is the caller's, the id random), so on a Cluster no script can do
   * both; the record comes first, so a key always names a stream that exists or expired, never
   * one about to be written: a creator that finds the key naming a stream with no record may
   * take it over without racing the stream's own creator. A creator that lost the key deletes
   * the record it made (nobody has its id) and returns the winner's stream.
   */
  async create(init: DurableInit): Promise<{ id: string; created: boolean }> {
    await this.#scripts.ready()
    const keys = this.#settings.keys.durable(init.id)
    const idem = init.idempotencyKey
    const name = idem === undefined ? '' : this.#settings.keys.idempotency(idem)
    const { client } = this.#settings
    try {
      if (!(await this.#scripts.create(keys, init, name))) {
        throw new RedisStoreError(`durable stream ${init.id} exists`)
      }
      for (let stale = '', i = 0; name !== '' && i < CLAIMS; i++) {
        const holder = await this.#scripts.claim(name, init.id, init.ttl, stale)
        if (holder === init.id) break
        if ((await client.exists(this.#settings.keys.durable(holder).record)) === 1) {
          await client.del(keys.record, keys.lease)
          return { id: holder, created: false }
        }
        stale = holder
        if (i === CLAIMS - 1) throw new RedisStoreError(`idempotency key ${idem} kept changing`)
      }
      // Not awaited: a cancel sent before the subscription is confirmed is marked on the
      // record, and the producer's first renewal finds it.
      void this.#cancels.listen(init.id, keys)
      return { id: init.id, created: true }
    } catch (error) {
      throw error instanceof RedisStoreError
        ? error
        : fail('starting a durable stream failed', error)
    }
  }

  async state(id: string): Promise<DurableState | undefined> {
    return this.#scripts.state(this.#settings.keys.durable(id))
  }

  async renew(id: string, token: string, lease: number): Promise<boolean> {
    const keys = this.#settings.keys.durable(id)
    const renewal = await this.#scripts.renew(keys, token, lease)
    if (!renewal) {
      this.#cancels.forget(keys)
      return false
    }
    if (renewal.name !== '') await this.#touch(renewal.name, id, renewal.ttl)
    if (renewal.cancelled) this.#cancels.cancelled(id)
    return true
  }

  async append(
    id: string,
    token: string,
    inputs: readonly EventInput[],
    stored: number,
  ): Promise<StoredEvent[] | undefined> {
    return this.#write(id, 'a', token, inputs, stored)
  }

  async end(
    id: string,
    token: string | undefined,
    input: EventInput,
  ): Promise<StoredEvent | undefined> {
    return (await this.#write(id, token === undefined ? 'r' : 'e', token ?? '', [input], 0))?.[0]
  }

  async cancel(id: string): Promise<void> {
    return this.#scripts.cancel(this.#settings.keys.durable(id), id)
  }

  onCancel(listener: (id: string) => void): () => void {
    return this.#cancels.onCancel(listener)
  }

  async #write(
    id: string,
    mode: 'a' | 'e' | 'r',
    token: string,
    inputs: readonly EventInput[],
    stored: number,
  ): Promise<StoredEvent[] | undefined> {
    const keys = this.#settings.keys.durable(id)
    const reply = await this.#scripts.write(keys, id, mode, token, inputs, stored)
    if (!reply) {
      if (mode !== 'r') this.#cancels.forget(keys)
      return undefined
    }
    if (mode !== 'a') {
      this.#cancels.forget(keys)
      if (reply[0] !== '') await this.#touch(reply[0]!, id, reply[1]!)
    }
    return inputs.map((input, i) => ({ ...input, position: reply[i + 2]! }))
  }

  /**
   * Keeps the idempotency key as long as the stream it names. It lives in its own hash slot, so
   * it is a second call after the renewal or the end, which have happened: a failure here is
   * reported, not thrown (a renewal that counted as failed would shorten the lease the producer
   * knows it holds). The next renewal touches it again.
   */
  async #touch(name: string, id: string, ttl: string): Promise<void> {
    try {
      await this.#scripts.touch(name, id, ttl)
    } catch (error) {
      if (!this.#settings.stop.aborted) this.#settings.onError(error)
    }
  }
}
