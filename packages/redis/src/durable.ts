import type { DurableBackend, DurableInit, DurableState, EventInput, StoredEvent } from '@sse/core'
import type { Redis } from 'ioredis'
import { fail, type Outages, whenReady } from './connection'
import { CANCEL, CLAIM, CREATE, RENEW, STATE, TOUCH, WRITE } from './durable-lua'
import type { DurableKeys, StoreKeys } from './keys'
import { fields } from './messages'
import { RedisStoreError } from './options'
import { Script } from './scripts'
import { Subscriber } from './subscriber'

const scripts = {
  create: new Script(CREATE),
  claim: new Script(CLAIM),
  touch: new Script(TOUCH),
  state: new Script(STATE),
  renew: new Script(RENEW),
  cancel: new Script(CANCEL),
  write: new Script(WRITE),
}

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
  readonly #listeners = new Set<(id: string) => void>()
  /** The streams whose producers run in this process, by cancel channel. */
  readonly #running = new Map<string, string>()
  #subscriber: Subscriber | undefined

  /** @internal Made by {@link RedisStore}: use `store.durable`. */
  constructor(settings: DurableSettings) {
    this.#settings = settings
    settings.stop.addEventListener('abort', () => this.#subscriber?.close())
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
    await this.#ready()
    const keys = this.#settings.keys.durable(init.id)
    const idem = init.idempotencyKey
    const name = idem === undefined ? '' : this.#settings.keys.idempotency(idem)
    const { client } = this.#settings
    try {
      const made = await scripts.create.run(
        client,
        [keys.record, keys.lease],
        [
          init.token,
          ms(init.ttl),
          ms(init.lease),
          name,
          init.owner === undefined ? '0' : '1',
          init.owner ?? '',
        ],
      )
      if (made !== 1) throw new RedisStoreError(`durable stream ${init.id} exists`)
      for (let stale = '', i = 0; name !== '' && i < CLAIMS; i++) {
        const holder = String(
          await scripts.claim.run(client, [name], [init.id, ms(init.ttl), stale]),
        )
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
      void this.#listen(init.id, keys)
      return { id: init.id, created: true }
    } catch (error) {
      throw error instanceof RedisStoreError
        ? error
        : fail('starting a durable stream failed', error)
    }
  }

  async state(id: string): Promise<DurableState | undefined> {
    const keys = this.#settings.keys.durable(id)
    const reply = (await this.#run('reading a durable stream', scripts.state, [
      keys.record,
      keys.lease,
    ])) as [number, string, number, number] | null
    if (!reply) return undefined
    const [hasOwner, owner, ended, orphaned] = reply
    return { owner: hasOwner ? owner : undefined, ended: ended === 1, orphaned: orphaned === 1 }
  }

  async renew(id: string, token: string, lease: number): Promise<boolean> {
    const keys = this.#settings.keys.durable(id)
    const reply = (await this.#run(
      'renewing a lease',
      scripts.renew,
      [keys.record, keys.lease, keys.stream, keys.meta],
      [token, ms(lease)],
    )) as [number, string, string] | null
    if (!reply) {
      this.#forget(keys)
      return false
    }
    const [cancelled, name, ttl] = reply
    if (name !== '') await this.#touch(name, id, ttl)
    if (cancelled === 1) this.#cancelled(id)
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
    const keys = this.#settings.keys.durable(id)
    await this.#run('cancelling a durable stream', scripts.cancel, [keys.record], [keys.cancel, id])
  }

  onCancel(listener: (id: string) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async #write(
    id: string,
    mode: 'a' | 'e' | 'r',
    token: string,
    inputs: readonly EventInput[],
    stored: number,
  ): Promise<StoredEvent[] | undefined> {
    const keys = this.#settings.keys.durable(id)
    const args: (string | number)[] = [mode, token, keys.channel, `d${id}`, stored]
    for (const input of inputs) {
      if (input.log !== `d${id}`)
        throw new TypeError(`not the log of durable stream ${id}: ${input.log}`)
      const entry = fields(input)
      args.push(entry.length, ...entry)
    }
    const reply = (await this.#run(
      'writing to a durable stream',
      scripts.write,
      [keys.stream, keys.meta, keys.record, keys.lease],
      args,
    )) as string[] | null
    if (!reply) {
      if (mode !== 'r') this.#forget(keys)
      return undefined
    }
    if (mode !== 'a') {
      this.#forget(keys)
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
      await this.#run('keeping an idempotency key', scripts.touch, [name], [id, ttl])
    } catch (error) {
      if (!this.#settings.stop.aborted) this.#settings.onError(error)
    }
  }

  /** Subscribes to the stream's cancel channel while its producer runs here. */
  async #listen(id: string, keys: DurableKeys): Promise<void> {
    this.#running.set(keys.cancel, id)
    this.#subscriber ??= new Subscriber(this.#settings.client, {
      ...this.#settings,
      onMessage: (channel) => {
        const running = this.#running.get(channel)
        if (running !== undefined) this.#cancelled(running)
      },
      // Cancels sent while it was away are marked on the records: renewals find them.
      onResubscribed: () => {},
    })
    try {
      if (!(await this.#subscriber.whenConnected(this.#settings.offlineTimeout))) {
        throw new RedisStoreError('not connected')
      }
      await this.#subscriber.add(keys.cancel)
    } catch (error) {
      // A store closed meanwhile has no cancels left to hear: nothing went wrong.
      if (this.#settings.stop.aborted) return
      // The mark on the record still reaches the producer, at its next renewal.
      this.#settings.onError(fail(`subscribing to the cancels of ${id} failed`, error))
    }
  }

  #forget(keys: DurableKeys): void {
    if (this.#running.delete(keys.cancel)) this.#subscriber?.remove(keys.cancel)
  }

  #cancelled(id: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(id)
      } catch (error) {
        this.#settings.onError(error)
      }
    }
  }

  async #run(what: string, script: Script, keys: string[], args: (string | number)[] = []) {
    await this.#ready()
    try {
      return await script.run(this.#settings.client, keys, args)
    } catch (error) {
      throw fail(`${what} failed`, error)
    }
  }

  async #ready(): Promise<void> {
    const { client, offlineTimeout, stop } = this.#settings
    if (stop.aborted) throw new RedisStoreError('the store is closed')
    if (!(await whenReady(client, offlineTimeout))) {
      throw new RedisStoreError(`Redis is unreachable (connection ${client.status})`)
    }
  }
}

/** Milliseconds as Redis takes them: a whole number, at least 1. */
function ms(value: number): number {
  return Math.max(1, Math.ceil(value))
}
