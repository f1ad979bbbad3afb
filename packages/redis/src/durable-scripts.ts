import type { DurableInit, DurableState, EventInput } from '@sse/core'
import { fail, whenReady } from './connection'
import type { DurableSettings } from './durable'
import { CANCEL, CLAIM, CREATE, RENEW, STATE, TOUCH, WRITE } from './durable-lua'
import type { DurableKeys } from './keys'
import { fields } from './messages'
import { RedisStoreError } from './options'
import { Script } from './scripts'

const scripts = {
  create: new Script(CREATE),
  claim: new Script(CLAIM),
  touch: new Script(TOUCH),
  state: new Script(STATE),
  renew: new Script(RENEW),
  cancel: new Script(CANCEL),
  write: new Script(WRITE),
}

/** What a renewal found on the record. */
export interface Renewal {
  /** Cancelled: marked on the record, so it counts even when the cancel's message was missed. */
  cancelled: boolean
  /** The name of the stream's idempotency key (empty without one), and the stream's ttl. */
  name: string
  ttl: string
}

/**
 * The durable streams' Lua scripts (durable-lua.ts) on the store's client: their arguments
 * encoded (milliseconds, events as field counts then fields) and their replies decoded. Each
 * waits for Redis (see {@link DurableScripts.ready}) and rejects with a `RedisStoreError` naming
 * what failed, except `create` and `claim`, which `RedisDurables.create` runs inside its own
 * wait and error handling.
 */
export class DurableScripts {
  readonly #settings: DurableSettings

  constructor(settings: DurableSettings) {
    this.#settings = settings
  }

  /** Rejects when the store is closed, or Redis is not ready within offlineTimeout. */
  async ready(): Promise<void> {
    const { client, offlineTimeout, stop } = this.#settings
    if (stop.aborted) throw new RedisStoreError('the store is closed')
    if (!(await whenReady(client, offlineTimeout))) {
      throw new RedisStoreError(`Redis is unreachable (connection ${client.status})`)
    }
  }

  /** Keeps a new stream's record and lease: false when the stream exists. */
  async create(keys: DurableKeys, init: DurableInit, name: string): Promise<boolean> {
    const made = await scripts.create.run(
      this.#settings.client,
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
    return made === 1
  }

  /** Points idempotency key `name` at stream `id`, unless it holds another: returns the holder. */
  async claim(name: string, id: string, ttl: number, stale: string): Promise<string> {
    return String(await scripts.claim.run(this.#settings.client, [name], [id, ms(ttl), stale]))
  }

  /** The stream's state; undefined when it has no record (never made, or expired). */
  async state(keys: DurableKeys): Promise<DurableState | undefined> {
    const reply = (await this.#run('reading a durable stream', scripts.state, [
      keys.record,
      keys.lease,
    ])) as [number, string, number, number] | null
    if (!reply) return undefined
    const [hasOwner, owner, ended, orphaned] = reply
    return { owner: hasOwner ? owner : undefined, ended: ended === 1, orphaned: orphaned === 1 }
  }

  /** Extends the lease held with `token`; undefined when it is not held (lost, or ended). */
  async renew(keys: DurableKeys, token: string, lease: number): Promise<Renewal | undefined> {
    const reply = (await this.#run(
      'renewing a lease',
      scripts.renew,
      [keys.record, keys.lease, keys.stream, keys.meta],
      [token, ms(lease)],
    )) as [number, string, string] | null
    if (!reply) return undefined
    const [cancelled, name, ttl] = reply
    return { cancelled: cancelled === 1, name, ttl }
  }

  /**
   * Appends parts to stream `id` (`a`), or its terminal event (`e` with the producer's token,
   * `r` by a reader that found the lease expired), each event checked to be of the stream's log.
   * Replies with the idempotency key's name (empty: none) and the stream's ttl, then the events'
   * positions; null when nothing was stored (see WRITE).
   */
  async write(
    keys: DurableKeys,
    id: string,
    mode: 'a' | 'e' | 'r',
    token: string,
    inputs: readonly EventInput[],
    stored: number,
  ): Promise<string[] | null> {
    const args: (string | number)[] = [mode, token, keys.channel, `d${id}`, stored]
    for (const input of inputs) {
      if (input.log !== `d${id}`)
        throw new TypeError(`not the log of durable stream ${id}: ${input.log}`)
      const entry = fields(input)
      args.push(entry.length, ...entry)
    }
    return (await this.#run(
      'writing to a durable stream',
      scripts.write,
      [keys.stream, keys.meta, keys.record, keys.lease],
      args,
    )) as string[] | null
  }

  /** Marks the record cancelled and publishes the cancel on the stream's cancel channel. */
  async cancel(keys: DurableKeys, id: string): Promise<void> {
    await this.#run('cancelling a durable stream', scripts.cancel, [keys.record], [keys.cancel, id])
  }

  /** Sets the expiry of idempotency key `name` to `ttl`, if it still names stream `id`. */
  async touch(name: string, id: string, ttl: string): Promise<void> {
    await this.#run('keeping an idempotency key', scripts.touch, [name], [id, ttl])
  }

  async #run(what: string, script: Script, keys: string[], args: (string | number)[] = []) {
    await this.ready()
    try {
      return await script.run(this.#settings.client, keys, args)
    } catch (error) {
      throw fail(`${what} failed`, error)
    }
  }
}

/** Milliseconds as Redis takes them: a whole number, at least 1. */
function ms(value: number): number {
  return Math.max(1, Math.ceil(value))
}
