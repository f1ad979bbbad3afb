import type { Redis } from 'ioredis'
import { RedisStoreError, type RedisStoreOptions } from './options'

/**
 * A client to share, told from options by what it can do rather than by `instanceof`: the
 * application's ioredis may be another copy or major (5 or 6) than the one this package loads,
 * and mistaking its client for options would silently connect to localhost instead.
 */
export function isClient(redis: RedisStoreOptions['redis']): redis is Redis {
  const candidate = redis as Partial<Redis> | undefined
  return (
    typeof candidate === 'object' &&
    typeof candidate.duplicate === 'function' &&
    typeof candidate.xread === 'function' &&
    typeof candidate.status === 'string'
  )
}

export function fail(message: string, cause: unknown): RedisStoreError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new RedisStoreError(`${message}: ${reason}`, { cause })
}

/**
 * Reports the first error of each outage of `client` (ioredis emits one per reconnection
 * attempt), unless `stopped()`.
 */
export function watchOutages(
  client: Redis,
  onError: (error: unknown) => void,
  stopped: () => boolean,
): void {
  let down = false
  client.on('ready', () => {
    down = false
  })
  client.on('error', (error: Error) => {
    if (down || stopped()) return
    down = true
    onError(fail('lost the connection to Redis, reconnecting', error))
  })
}

const readiness = new WeakMap<Redis, Promise<boolean>>()

/**
 * Resolves true when `client` is ready, false on its end or after `ms`. Waiters share one pair
 * of listeners per client, so a burst of publishes during an outage adds none.
 */
export async function whenReady(client: Redis, ms: number): Promise<boolean> {
  if (client.status === 'ready') return true
  if (client.status === 'end') return false
  if (client.status === 'wait') client.connect().catch(() => {})
  let shared = readiness.get(client)
  if (!shared) {
    shared = new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        readiness.delete(client)
        client.off('ready', onReady)
        client.off('end', onEnd)
        resolve(ok)
      }
      const onReady = () => done(true)
      const onEnd = () => done(false)
      client.once('ready', onReady)
      client.once('end', onEnd)
    })
    readiness.set(client, shared)
  }
  return within(shared, ms)
}

/** Resolves with what `promise` resolves to, or false if that takes more than `ms`. */
export async function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms))
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
