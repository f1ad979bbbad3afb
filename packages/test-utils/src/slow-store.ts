import {
  type EventInput,
  type EventStore,
  type LogReplay,
  MemoryStore,
  type MemoryStoreOptions,
  type StoredEvent,
} from '@sse/core'
import { type Deferred, deferred, sleep } from './wait'

/** Options of {@link SlowStore}. */
export interface SlowStoreOptions extends MemoryStoreOptions {
  /**
   * How late every read, head, follow and epoch is answered, in milliseconds.
   * @default 30
   */
  delay?: number
  /**
   * The store that keeps the history.
   * @default a MemoryStore with these options
   */
  inner?: EventStore
}

/**
 * A store as slow and as faulty as a remote one can be, for the fault cases of the suite (C25)
 * and its slow-store variant: every read, head, follow and epoch is answered after `delay` ms (as a
 * Redis round trip would be, only longer), appends fail while {@link SlowStore.failing} is set,
 * reads can be held until released, and the live feed can report a gap. The history itself is
 * a real store (a {@link MemoryStore} unless another is given).
 */
export class SlowStore implements EventStore {
  readonly inner: EventStore
  /** While true, `append` rejects (Redis down), and `read`, `head`, `follow` and `epoch` too. */
  failing = false
  readonly #delay: number
  readonly #gaps = new Set<(log: string) => void>()
  #held: Deferred<void> | undefined

  constructor(options: SlowStoreOptions = {}) {
    const { delay, inner, ...retention } = options
    this.inner = inner ?? new MemoryStore(retention)
    this.#delay = delay ?? 30
  }

  async epoch(): Promise<string> {
    await this.#wait()
    return this.inner.epoch()
  }

  async append(inputs: readonly EventInput[]): Promise<readonly StoredEvent[]> {
    if (this.failing) throw new Error('SlowStore: append failed (failing on demand)')
    return this.inner.append(inputs)
  }

  broadcast(inputs: readonly EventInput[]): void | Promise<void> {
    return this.inner.broadcast(inputs)
  }

  async read(log: string, after: string | undefined): Promise<LogReplay> {
    await this.#wait()
    return this.inner.read(log, after)
  }

  async head(log: string): Promise<string> {
    await this.#wait()
    return this.inner.head(log)
  }

  async follow(log: string): Promise<string> {
    await this.#wait()
    return this.inner.follow(log)
  }

  unfollow(log: string): void {
    this.inner.unfollow(log)
  }

  subscribe(listener: (event: StoredEvent) => void, onGap?: (log: string) => void): () => void {
    const unsubscribe = this.inner.subscribe(listener, onGap)
    if (onGap) this.#gaps.add(onGap)
    return () => {
      unsubscribe()
      if (onGap) this.#gaps.delete(onGap)
    }
  }

  compare(a: string, b: string): number {
    return this.inner.compare(a, b)
  }

  /** Holds every read, head, follow and epoch until the returned function is called. */
  hold(): () => void {
    const held = deferred<void>()
    this.#held = held
    return () => {
      if (this.#held === held) this.#held = undefined
      held.resolve()
    }
  }

  /**
   * Reports a gap in the live feed of a log (by default the hub-wide one, which every stream
   * follows), as a Redis store does after missing trimmed events.
   */
  gap(log = '*'): void {
    for (const onGap of this.#gaps) onGap(log)
  }

  async #wait(): Promise<void> {
    await sleep(this.#delay)
    await this.#held?.promise
    if (this.failing) throw new Error('SlowStore: replay failed (failing on demand)')
  }
}
