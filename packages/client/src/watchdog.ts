/**
 * Stall detection (C33): fires once when `kick()` has not been called for `ms` milliseconds.
 * Kicked when a request starts and on every chunk of bytes, so it covers a server that never
 * answers as well as a stream that went silent (no event, no heartbeat comment).
 */
export interface Watchdog {
  kick(): void
  /** Stops the clock until the next `kick()`: the client itself is not reading. */
  hold(): void
  stop(): void
}

export function createWatchdog(ms: number | false, onStall: () => void): Watchdog {
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  const hold = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
  }
  const stop = () => {
    stopped = true
    hold()
  }
  return {
    kick() {
      if (ms === false || stopped) return
      if (timer !== undefined) clearTimeout(timer)
      timer = setTimeout(() => {
        stop()
        onStall()
      }, ms)
    },
    hold,
    stop,
  }
}

/** Resolves after `ms` milliseconds, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
