import { readCursor } from './cursor'
import { encodeEvent } from './encoder'
import { HISTORY_LOST_EVENT, HTTP2_FORBIDDEN_HEADERS, REPLAY_HEADER, streamHeaders } from './head'
import type { Hub, Membership } from './hub'
import {
  DEFAULT_RETRY,
  type ResolvedSessionOptions,
  type SessionOptions,
  type Sink,
  SseSession,
  sessionDefaults,
} from './session'
import type { ReplayResult } from './store'
import type { EventMap } from './types'

/**
 * A client's request and response as a runtime exposes them. `@sse/core/node` and
 * `@sse/core/web` implement it; implement it to open streams on another runtime.
 */
export interface Connection {
  /** Where the stream's bytes go. */
  readonly sink: Sink
  /** True on HTTP/2 (and later), where connection-specific headers are forbidden. */
  readonly http2: boolean
  /** The raw `Last-Event-ID` request header. */
  readonly lastEventIdHeader: string | string[] | null | undefined
  /** The request URL (or path with query), for the query-string cursor. */
  readonly url: string | undefined
  /** The request method: a `HEAD` request gets the stream's head and no body. */
  readonly method?: string
  /**
   * Sends the response head: the application's `extra` headers (already filtered for HTTP/2),
   * then the stream's own over them, keeping headers already set on the response (C05).
   * Called once.
   */
  writeHead(status: number, headers: Record<string, string>, extra?: HeaderPairs): void
  /**
   * Wires the runtime's close and drain notifications to the session, and applies the options
   * that concern the connection (`coalesce`). Called once, first.
   */
  attach(session: SseSession, options: ResolvedSessionOptions): void
}

/** Header values as Node and the Fetch API accept them. */
export type HeaderValue = string | number | readonly string[]

/** Headers to send with a stream: a `Headers` object, name/value pairs, or a plain object. */
export type HeadersInput =
  | Headers
  | Iterable<readonly [string, string]>
  | Record<string, HeaderValue | undefined>

/** Headers normalized to name/value pairs. */
export type HeaderPairs = Array<[name: string, value: HeaderValue]>

/** Options for opening one stream. */
export interface OpenOptions<M extends EventMap = EventMap> extends SessionOptions, Membership {
  /** A hub to join: broadcasts, resume from its store, graceful shutdown. Its defaults apply first. */
  hub?: Hub<M>
  /**
   * The query parameter read as the cursor when there is no `Last-Event-ID` header; `false`
   * ignores the query string.
   * @default 'lastEventId'
   */
  cursorParam?: string | false
  /**
   * Headers to send with the stream (CORS, cookies, request ids) that are not already set on
   * the response; the SSE headers are set over them, and on HTTP/2 connection-specific ones
   * are dropped (C04).
   */
  headers?: HeadersInput
}

/**
 * The application's headers as pairs, one per name, without those HTTP/2 forbids when the
 * stream is HTTP/2. Repeated `Set-Cookie` values become one list (a `Headers` object yields
 * them one by one, and setting each on a Node response would keep only the last).
 */
export function headerPairs(headers: HeadersInput | undefined, http2: boolean): HeaderPairs {
  if (!headers) return []
  const entries: Iterable<readonly [string, HeaderValue | undefined]> =
    Symbol.iterator in headers
      ? (headers as Iterable<readonly [string, string]>)
      : Object.entries(headers as Record<string, HeaderValue | undefined>)
  const pairs: HeaderPairs = []
  const cookies: string[] = []
  for (const [name, value] of entries) {
    if (value === undefined) continue
    const lower = name.toLowerCase()
    if (http2 && (HTTP2_FORBIDDEN_HEADERS as readonly string[]).includes(lower)) continue
    if (lower !== 'set-cookie') pairs.push([name, value])
    else if (typeof value === 'object') cookies.push(...value)
    else cookies.push(String(value))
  }
  if (cookies.length > 0) pairs.unshift(['set-cookie', cookies])
  return pairs
}

function pick<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value
}

function optionError(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`Invalid SSE option "${name}": expected ${expected}, got ${String(value)}`)
}

function checkDuration(name: string, value: unknown, allowFalse: boolean): void {
  if (allowFalse && value === false) return
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw optionError(
      name,
      `a non-negative integer of milliseconds${allowFalse ? ' or false' : ''}`,
      value,
    )
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
  options: SessionOptions,
  hubDefaults: SessionOptions = {},
): ResolvedSessionOptions {
  const out = { ...sessionDefaults }
  for (const key of Object.keys(out) as (keyof ResolvedSessionOptions)[]) {
    ;(out as Record<string, unknown>)[key] = pick(options[key], pick(hubDefaults[key], out[key]))
  }
  checkDuration('heartbeat', out.heartbeat, true)
  checkDuration('retry', out.retry, true)
  checkDuration('maxLifetime', out.maxLifetime, true)
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

function retryFrame(options: ResolvedSessionOptions): string {
  if (options.retry === false) return ':\n\n'
  const jitter = Math.floor(options.retry * options.retryJitter * Math.random())
  return encodeEvent({ retry: options.retry + jitter })
}

/**
 * Answers 200 with a `retry:` and `Retry-After`, then ends: a browser comes back after the delay
 * (any other status would stop its EventSource for good, C06).
 */
function comeBackLater(
  connection: Connection,
  session: SseSession,
  options: ResolvedSessionOptions,
  reason: 'shutdown' | 'error' | 'limit',
  extra: HeaderPairs,
): void {
  const retry = options.retry === false ? DEFAULT_RETRY : options.retry
  connection.writeHead(
    200,
    { ...streamHeaders(connection.http2), 'Retry-After': String(Math.ceil(retry / 1000)) },
    extra,
  )
  session.start(encodeEvent({ retry }))
  session.close(reason)
}

/** Refuses a stream over the hub's limits the way `limitStatus` says. */
function refuseOverLimit(
  connection: Connection,
  session: SseSession,
  options: ResolvedSessionOptions,
  status: 200 | 429 | 503,
  extra: HeaderPairs,
): void {
  if (status === 200) {
    comeBackLater(connection, session, options, 'limit', extra)
    return
  }
  const retry = options.retry === false ? DEFAULT_RETRY : options.retry
  connection.writeHead(
    status,
    {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'Retry-After': String(Math.ceil(retry / 1000)),
    },
    extra,
  )
  connection.sink.write('{"error":"too many open streams, retry later"}')
  session.close('limit')
}

/**
 * Opens a stream on a connection: reads the cursor (C19), sends the head (C01-C05) and a first
 * frame at once (C02), and with a hub replays what the client missed before going live
 * (C20, C21). Resolves once the head is sent (the replay goes on in the background, ahead of
 * live events); if the client left meanwhile, the session is already closed.
 */
export async function openSession<M extends EventMap = EventMap>(
  connection: Connection,
  options: OpenOptions<M> = {},
): Promise<SseSession<M>> {
  const { hub } = options
  const resolved = resolveOptions(options, hub?.defaults)
  const cursor = readCursor(connection.lastEventIdHeader, connection.url, options.cursorParam)
  const session = new SseSession<M>(connection.sink, resolved, cursor.id)
  const untyped = session as unknown as SseSession
  connection.attach(untyped, resolved)
  const extra = headerPairs(options.headers, connection.http2)
  if (hub?.closing) {
    comeBackLater(connection, untyped, resolved, 'shutdown', extra)
    return session
  }
  const headers = streamHeaders(connection.http2)
  if (connection.method === 'HEAD') {
    // Node sends no body on HEAD and would send the head only on a first write: end at once.
    connection.writeHead(200, headers, extra)
    session.close()
    return session
  }
  if (!hub) {
    connection.writeHead(200, headers, extra)
    session.start(retryFrame(resolved))
    return session
  }
  if (!hub.admits(options)) {
    refuseOverLimit(connection, untyped, resolved, hub.limitStatus, extra)
    return session
  }

  const resuming = cursor.id !== undefined || cursor.invalid
  // Join before reading the store, so an event published meanwhile is queued, not missed.
  const member = hub.join(untyped, options, resuming)
  let replay: ReplayResult | undefined
  if (resuming) {
    try {
      replay = await hub.store.replay(cursor.id)
    } catch (error) {
      hub.reportError(error)
      if (!session.closed) comeBackLater(connection, untyped, resolved, 'error', extra)
      return session
    }
    if (session.closed) return session
    headers[REPLAY_HEADER] = replay.lost ? 'lost' : 'complete'
  }
  connection.writeHead(200, headers, extra)
  let prelude = retryFrame(resolved)
  if (replay?.lost) {
    prelude += encodeEvent({
      event: HISTORY_LOST_EVENT,
      data: JSON.stringify({ lastEventId: cursor.id ?? null }),
    })
  }
  session.start(prelude)
  // The replay runs on while the caller goes on (a web runtime must get its Response before
  // anything can drain); live events stay queued behind it until it is done.
  if (resuming) hub.catchUp(member, replay?.events ?? []).catch((error) => hub.reportError(error))
  return session
}
