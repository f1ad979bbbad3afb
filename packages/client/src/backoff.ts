/**
 * Reconnect delays (C33): the server's `retry:` (else `minDelay`) is the floor. The first
 * reconnect after a stable connection waits exactly the floor, as an `EventSource` would.
 * After `n` (from 1) failed or short-lived attempts in a row, the ceiling is
 * `max(floor, minDelay) * 2^n` capped at `maxDelay` (never below the floor), and the delay is
 * drawn uniformly between floor and ceiling ("full jitter" over that window), so clients cut
 * together do not come back together, and a `retry: 0` cannot turn failures into a busy loop.
 */
export function backoffDelay(
  attempt: number,
  floor: number,
  minDelay: number,
  maxDelay: number,
  random: () => number = Math.random,
): number {
  if (attempt === 0) return floor
  const ceiling = Math.max(floor, Math.min(maxDelay, Math.max(floor, minDelay) * 2 ** attempt))
  return floor + random() * (ceiling - floor)
}

/**
 * The delay a `Retry-After` header asks for, in milliseconds: delta-seconds or an HTTP date.
 * Undefined when absent or unreadable.
 */
export function retryAfterDelay(
  value: string | null,
  now: number = Date.now(),
): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
