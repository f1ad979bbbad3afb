/** Options of {@link waitFor}. */
export interface WaitOptions {
  /**
   * How long to wait before failing, in milliseconds. Generous by default: tests run on loaded
   * 2-core machines, and a condition that holds returns at once anyway.
   * @default 5000
   */
  timeout?: number
  /**
   * How often the condition is checked, in milliseconds.
   * @default 5
   */
  interval?: number
}

/** Resolves after `ms` milliseconds. Use only to prove that something does not happen. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Polls `check` until it returns a value other than `false`/`undefined`/`null`, and returns
 * that value; fails with `what` in the message once `timeout` has passed.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | false | undefined | null,
  options: WaitOptions = {},
): Promise<T> {
  const timeout = options.timeout ?? 5000
  const interval = options.interval ?? 5
  const deadline = Date.now() + timeout
  for (;;) {
    const value = check()
    if (value !== false && value !== undefined && value !== null) return value
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`)
    await sleep(interval)
  }
}

/** Rejects with a clear message if `promise` has not settled within `ms` milliseconds. */
export async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** A promise with its resolve function, for callbacks that signal a test. */
export interface Deferred<T> {
  promise: Promise<T>
  resolve: (value: T) => void
}

/** Creates a {@link Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}
