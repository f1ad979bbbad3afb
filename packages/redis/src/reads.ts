import type { LogReplay } from '@sse/core'
import type { Redis } from 'ioredis'
import { fail } from './connection'
import { type AgeTrim, readHead, readLog, toEvent } from './history'
import type { StoreKeys } from './keys'

/** What a store's reads need from it. */
export interface ReadSettings {
  client: Redis
  keys: StoreKeys
  trim: AgeTrim
  /** Undefined when Redis is usable now; else waits for it, or rejects (`StoreConnection`). */
  usable: () => Promise<void> | undefined
}

/** The history queries of one store: a log's retained events after a position, and its head. */
export class LogReads {
  readonly #settings: ReadSettings

  constructor(settings: ReadSettings) {
    this.#settings = settings
  }

  /** The retained events of `log` after `after` (untrusted), read up to the log's head. */
  async read(log: string, after: string | undefined): Promise<LogReplay> {
    const { client, keys, trim, usable } = this.#settings
    const wait = usable()
    if (wait) await wait
    try {
      const read = await readLog(client, keys.of(log), after, trim, true)
      return {
        events: read.entries.map((entry) => toEvent(log, entry)),
        lost: read.lost,
        head: read.head,
      }
    } catch (error) {
      throw fail(`reading ${log} failed`, error)
    }
  }

  /** The log's last position now: `0-0` for a log that never had an event. */
  async head(log: string): Promise<string> {
    const { client, keys, trim, usable } = this.#settings
    const wait = usable()
    if (wait) await wait
    try {
      return await readHead(client, keys.of(log), trim)
    } catch (error) {
      throw fail(`reading the head of ${log} failed`, error)
    }
  }
}
