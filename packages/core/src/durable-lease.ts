import type { DurableBackend } from './durable-store'

/** The longest wait between two attempts of a store call that failed. */
const MAX_RETRY_DELAY = 250

/**
 * A producer's lease: renewed every third of it, and known held until `lease` ms after the
 * last renewal the store confirmed (the store's clock runs that long from the renewal's
 * arrival, which is later than its sending).
 */
export class DurableLease {
  readonly #renewal: ReturnType<typeof setInterval>
  readonly #lease: number
  #heldUntil: number

  /**
   * @param lost - called when the store says the lease is no longer held
   * @param reportError - gets a renewal that failed (the next one may succeed)
   */
  constructor(
    backend: DurableBackend,
    id: string,
    token: string,
    lease: number,
    lost: () => void,
    reportError: (error: unknown) => void,
  ) {
    this.#lease = lease
    this.#heldUntil = Date.now() + lease
    this.#renewal = setInterval(() => {
      const sent = Date.now()
      Promise.resolve(backend.renew(id, token, lease)).then((held) => {
        if (held) this.#heldUntil = Math.max(this.#heldUntil, sent + lease)
        else lost()
      }, reportError)
    }, lease / 3)
    // Node: the lease alone must not keep a process alive.
    ;(this.#renewal as { unref?: () => void }).unref?.()
  }

  /** Stops renewing it. */
  release(): void {
    clearInterval(this.#renewal)
  }

  /**
   * Runs a store call, and runs it again after a failure (a store restarting, a connection
   * lost: not a refusal, which resolves) for as long as the lease is known held, and at most a
   * lease's time (a store that renews but keeps failing this call gets it reported): a store
   * that comes back within the lease loses no answer. A write sent again after its reply was
   * lost is not stored twice (the backend's `append` takes `stored`), and fencing keeps a
   * retry from landing after the lease lapsed.
   */
  async whileHeld<T>(call: () => T | Promise<T>): Promise<T> {
    let giveUp = Number.POSITIVE_INFINITY
    for (let delay = 25; ; delay = Math.min(2 * delay, MAX_RETRY_DELAY)) {
      try {
        return await call()
      } catch (error) {
        giveUp = Math.min(giveUp, Date.now() + this.#lease)
        if (Date.now() + delay >= Math.min(this.#heldUntil, giveUp)) throw error
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
  }
}
