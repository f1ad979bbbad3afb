import { encodeEvent } from './encoder'
import type { Serializer } from './types'

/** Options of one stream. Hubs carry defaults for these; each open call can override them. */
export interface StreamOptions {
  /**
   * Idle time in milliseconds after which a heartbeat comment is sent (C15); `false` sends none.
   * Keep it at least 2 s below the smallest idle timeout between you and the clients (proxies
   * often cut at 30-60 s): a heartbeat can come up to 1 s late (docs/deployment.md).
   * @default 15000
   */
  heartbeat?: number | false
  /**
   * Reconnection delay in milliseconds, sent to the client in the stream's first frame (with
   * {@link StreamOptions.retryJitter}). `false` sends none, so the client keeps its own default
   * (about 3 s in browsers); answers that send a client away to come back later (a shutdown, a
   * limit) still carry 3000 ms then.
   * @default 3000
   */
  retry?: number | false
  /**
   * Spreads each client's delay evenly over `retry` ± this fraction of it (0.5: from half to one
   * and a half times `retry`), so clients dropped together (a shutdown, a resync, a limit) do not
   * come back in the same second (C26) while they still come back after `retry` on average.
   * `0` sends exactly `retry`.
   * @default 0.5
   */
  retryJitter?: number
  /**
   * Ends the stream after this many milliseconds so the client reconnects and resumes (and
   * spreads over instances); `false` keeps it open until the client or the server ends it.
   * @default false
   */
  maxLifetime?: number | false
  /**
   * Shortens each stream's lifetime by up to this fraction of `maxLifetime`, at random, so the
   * reconnects of clients that opened together are spread out.
   * @default 0.1
   */
  lifetimeJitter?: number
  /**
   * The most bytes that may wait for one slow client. Above it the stream is dropped, and the
   * client reconnects and resumes with `Last-Event-ID` (C23).
   * @default 1048576 (1 MiB)
   */
  maxBufferedBytes?: number
  /**
   * Turns non-string event data into text.
   * @default JSON.stringify
   */
  serialize?: Serializer
  /**
   * Sends the events written to one client during one turn of the event loop in a single
   * socket write, or one per socket buffer's worth (16 KB) for a larger burst (node:http over
   * HTTP/1.1; other connections ignore it). It multiplies the events a core can deliver when
   * many are broadcast at once, for up to one turn of latency. It adapts: a client that gets
   * one event per turn has it written at once, so streams of a few events per second pay
   * nothing for it. `false` writes every event at once.
   * @default true
   */
  coalesce?: boolean
}

/** {@link StreamOptions} with every default applied. */
export type ResolvedStreamOptions = Required<StreamOptions>

/** The reconnection delay sent when none is configured, in milliseconds. */
export const DEFAULT_RETRY = 3000

/** The defaults of {@link StreamOptions}. */
export const streamDefaults: ResolvedStreamOptions = Object.freeze({
  heartbeat: 15_000,
  retry: DEFAULT_RETRY,
  retryJitter: 0.5,
  maxLifetime: false,
  lifetimeJitter: 0.1,
  maxBufferedBytes: 1024 * 1024,
  serialize: JSON.stringify,
  coalesce: true,
})

function pick<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value
}

function optionError(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`Invalid SSE option "${name}": expected ${expected}, got ${String(value)}`)
}

/** `false` turns the feature off; `0` would be ambiguous (off, or at once?), so it is refused. */
function checkInterval(name: string, value: unknown): void {
  if (value === false) return
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw optionError(name, 'a positive integer of milliseconds, or false to turn it off', value)
  }
}

function checkFraction(name: string, value: unknown): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw optionError(name, 'a number from 0 to 1', value)
  }
}

/**
 * Applies the call's options over the hub's defaults over the built-in defaults, and checks
 * them, so a bad option fails before anything is written to the client.
 *
 * @throws TypeError naming the option when a value is out of its range.
 */
export function resolveOptions(
  options: StreamOptions,
  hubDefaults: StreamOptions = {},
): ResolvedStreamOptions {
  const out = { ...streamDefaults }
  for (const key of Object.keys(out) as (keyof ResolvedStreamOptions)[]) {
    ;(out as Record<string, unknown>)[key] = pick(options[key], pick(hubDefaults[key], out[key]))
  }
  checkInterval('heartbeat', out.heartbeat)
  checkInterval('maxLifetime', out.maxLifetime)
  if (
    out.retry !== false &&
    (typeof out.retry !== 'number' || !Number.isSafeInteger(out.retry) || out.retry < 0)
  ) {
    throw optionError('retry', 'a non-negative integer of milliseconds, or false', out.retry)
  }
  checkFraction('retryJitter', out.retryJitter)
  checkFraction('lifetimeJitter', out.lifetimeJitter)
  if (typeof out.maxBufferedBytes !== 'number' || !(out.maxBufferedBytes > 0)) {
    throw optionError('maxBufferedBytes', 'a positive number of bytes', out.maxBufferedBytes)
  }
  if (typeof out.serialize !== 'function') {
    throw optionError('serialize', 'a function', out.serialize)
  }
  if (typeof out.coalesce !== 'boolean') throw optionError('coalesce', 'a boolean', out.coalesce)
  return out
}

/** This client's reconnection delay: `retry` (or the default), spread by `retryJitter`. */
export function jitteredRetry(
  options: Pick<ResolvedStreamOptions, 'retry' | 'retryJitter'>,
): number {
  const retry = options.retry === false ? DEFAULT_RETRY : options.retry
  const spread = options.retryJitter
  return Math.floor(retry * (1 - spread + 2 * spread * Math.random()))
}

/** The first frame of a stream: a jittered `retry:`, or a bare comment when `retry` is false. */
export function retryFrame(options: ResolvedStreamOptions): string {
  return options.retry === false ? ':\n\n' : encodeEvent({ retry: jitteredRetry(options) })
}
