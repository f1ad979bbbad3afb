const MIN_RESOLUTION = 5
const MAX_RESOLUTION = 1000

/** The tick period that keeps an interval's timing error within an eighth of it. */
export function resolutionFor(intervalMs: number): number {
  return Math.min(MAX_RESOLUTION, Math.max(MIN_RESOLUTION, Math.floor(intervalMs / 8)))
}

/**
 * One shared timer for every session in the process (architecture.md, technique 4): it ticks
 * at the finest resolution any member asked for and sweeps all members. A sweep over 10,000
 * sessions costs well under a millisecond, far less than 10,000 separate timers.
 */
export class Ticker<T> {
  readonly #tick: (member: T, now: number) => void
  #members = new Set<T>()
  #resolutions = new Map<number, number>()
  #period = 0
  #timer: ReturnType<typeof setInterval> | undefined
  #now = 0

  /** @param tick - looks at one member (a stream's heartbeat and lifetime) */
  constructor(tick: (member: T, now: number) => void) {
    this.#tick = tick
  }

  add(member: T, resolution: number): void {
    if (this.#members.has(member)) return
    this.#now = Date.now()
    this.#members.add(member)
    this.#resolutions.set(resolution, (this.#resolutions.get(resolution) ?? 0) + 1)
    this.#reschedule()
  }

  delete(member: T, resolution: number): void {
    if (!this.#members.delete(member)) return
    const count = (this.#resolutions.get(resolution) ?? 1) - 1
    if (count === 0) this.#resolutions.delete(resolution)
    else this.#resolutions.set(resolution, count)
    this.#reschedule()
  }

  /**
   * The time of the last sweep (or of the last `add`): a clock at most one period old, which
   * members stamp their activity with instead of calling `Date.now()` on every write.
   */
  get now(): number {
    return this.#now
  }

  /** Number of members, for leak checks. */
  get size(): number {
    return this.#members.size
  }

  #reschedule(): void {
    let period = 0
    for (const r of this.#resolutions.keys()) if (period === 0 || r < period) period = r
    if (period === this.#period) return
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.#period = period
    if (period === 0) return
    this.#timer = setInterval(() => this.#sweep(), period)
    // The sweep must never keep a process alive on its own.
    ;(this.#timer as { unref?: () => void }).unref?.()
  }

  #sweep(): void {
    const now = Date.now()
    this.#now = now
    for (const member of this.#members) this.#tick(member, now)
  }
}
