/**
 * Stall detection (C33): fires once when `kick()` has not been called for `ms` milliseconds.
 * Kicked when a request starts and on every chunk of bytes, so it covers a server that never
 * answers as well as a stream that went silent (no event, no heartbeat comment).
 */
export interface Watchdog {
  kick(): void
  stop(): void
}

export function createWatchdog(ms: number | false, onStall: () => void): Watchdog {
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  const stop = () => {
    stopped = true
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
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
