import type { EventStore } from './store'

interface Followed {
  refs: number
  /** The last position delivered to this hub's streams (or where the feed started). */
  position: string | undefined
  /** Settles once the store said where the feed starts; undefined after that. */
  starting: Promise<void> | undefined
  /** The store failed to say: the next stream that follows the log asks again. */
  failed: boolean
}

/**
 * The logs a hub's streams follow, and the position of each that its caught-up streams have
 * reached. A position moves only when the live feed delivers an event, so a cursor built from
 * these positions never claims an event a stream has not been sent.
 */
export class Follows {
  readonly #store: EventStore
  readonly #logs = new Map<string, Followed>()

  constructor(store: EventStore) {
    this.#store = store
  }

  /**
   * Counts one more stream following each log, and starts following the new ones. Resolves once
   * the store said where each log's feed starts; rejects when it failed to.
   */
  acquire(logs: readonly string[]): Promise<unknown> | undefined {
    for (const log of logs) {
      let followed = this.#logs.get(log)
      if (!followed) {
        followed = { refs: 0, position: undefined, starting: undefined, failed: false }
        this.#logs.set(log, followed)
        this.#start(log, followed)
      }
      followed.refs++
    }
    return this.ready(logs)
  }

  /** Resolves once the hub knows where each of these (acquired) logs' feed starts. */
  ready(logs: readonly string[]): Promise<unknown> | undefined {
    const waits: Promise<void>[] = []
    for (const log of logs) {
      const followed = this.#logs.get(log)
      if (followed?.failed) this.#start(log, followed)
      if (followed?.starting) waits.push(followed.starting)
    }
    return waits.length > 0 ? Promise.all(waits) : undefined
  }

  release(logs: readonly string[]): void {
    for (const log of logs) {
      const followed = this.#logs.get(log)
      if (!followed || --followed.refs > 0) continue
      this.#logs.delete(log)
      this.#store.unfollow(log)
    }
  }

  position(log: string): string | undefined {
    return this.#logs.get(log)?.position
  }

  /**
   * Records a live event of a followed log. False for an event at or before the log's position
   * (a feed that delivers twice, or an event the start position already covered): skip it.
   */
  advance(log: string, position: string): boolean {
    const followed = this.#logs.get(log)
    if (!followed) return false
    const known = followed.position
    if (known !== undefined && this.#store.compare(position, known) <= 0) return false
    followed.position = position
    return true
  }

  /** Starts a log's feed again after it skipped events (the hub ends the streams that follow it). */
  restart(log: string): void {
    const followed = this.#logs.get(log)
    if (followed) this.#start(log, followed)
  }

  #start(log: string, followed: Followed): void {
    followed.failed = false
    followed.position = undefined
    let head: string | Promise<string>
    try {
      head = this.#store.follow(log)
    } catch (error) {
      head = Promise.reject(error)
    }
    if (typeof head === 'string') {
      followed.position = head
      return
    }
    followed.starting = head.then(
      (start) => {
        followed.starting = undefined
        // Events that came through the feed meanwhile may be past the store's answer.
        const known = followed.position
        if (known === undefined || this.#store.compare(start, known) > 0) followed.position = start
      },
      (error: unknown) => {
        // The streams waiting now are refused; the next one asks again.
        followed.starting = undefined
        followed.failed = true
        throw error
      },
    )
    // Streams that wait on it hear the failure; a restart nobody waits on must not crash.
    followed.starting.catch(() => {})
  }
}
