import type { ResolvedStreamOptions } from './options'
import { resolutionFor } from './ticker'

/** An empty comment: what a heartbeat writes to an idle stream. */
export const HEARTBEAT = ':\n\n'

/** The idle time after which a heartbeat goes out, in milliseconds; 0 for none. */
export function heartbeatInterval(options: ResolvedStreamOptions): number {
  return options.heartbeat === false ? 0 : options.heartbeat
}

function lifetime(options: ResolvedStreamOptions): number {
  return options.maxLifetime === false ? 0 : options.maxLifetime
}

/** When a stream opened now ends for good (jittered, so that streams opened together do not). */
export function lifetimeDeadline(options: ResolvedStreamOptions): number {
  const ms = lifetime(options)
  return ms > 0
    ? Date.now() + ms * (1 - options.lifetimeJitter * Math.random())
    : Number.POSITIVE_INFINITY
}

/** The ticker resolution a stream needs for its heartbeat and lifetime; 0 when it needs none. */
export function tickResolution(options: ResolvedStreamOptions): number {
  const intervals = [heartbeatInterval(options), lifetime(options)].filter((ms) => ms > 0)
  return intervals.length ? resolutionFor(Math.min(...intervals)) : 0
}
