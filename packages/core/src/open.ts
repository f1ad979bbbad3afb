import type { Connection, HeaderPairs } from './connection'
import { readCursor } from './cursor'
import { reportStoreError } from './diagnostics'
import { channels } from './diagnostics-channels'
import { answerJson, caughtUpWithEnd, openDurable } from './durable-open'
import type { DurableState } from './durable-store'
import type { DurableRef } from './durable-types'
import { encodeEvent } from './encoder'
import { CURSOR_EVENT, HISTORY_LOST_EVENT, REPLAY_HEADER, streamHeaders } from './head'
import { type HeadersInput, headerPairs } from './headers'
import { type Hub, hubInternals } from './hub'
import { durableLog, targetOf } from './logs'
import type { Member, Membership } from './members'
import type { StreamOptions } from './options'
import { jitteredRetry, type ResolvedStreamOptions, resolveOptions, retryFrame } from './options'
import { isClosing, track } from './shutdown'
import type { Start } from './start'
import { streamInternals as internals, type SseStream } from './stream'
import type { EventMap } from './types'

/** Options for opening one stream: its settings, and what it follows on a hub. */
// biome-ignore lint/suspicious/noExplicitAny: `any`, so that options with a hub of any event map fit
export interface OpenOptions<M extends EventMap = any> extends StreamOptions, Membership {
  /** A hub to join: broadcasts, resume from its store, shutdown. Its defaults apply first. */
  hub?: Hub<M>
  /**
   * The query parameter read as the cursor when there is no `Last-Event-ID` header; `false`
   * ignores the query string.
   * @default 'lastEventId'
   */
  cursorParam?: string | false
  /**
   * A durable stream to read instead of topics: from `streams.start(...)` in the route that
   * starts it, or `streams.get(id, { owner })` in the route that resumes it. Its hub is used;
   * a reader without `Last-Event-ID` gets it from its first part (C29).
   */
  durable?: DurableRef
  /**
   * Headers to send with the stream (CORS, cookies, request ids) that are not already set on
   * the response; the SSE headers are set over them, and on HTTP/2 connection-specific ones
   * are dropped (C04).
   */
  headers?: HeadersInput
}

/**
 * The options a stream opens with: the call's, over its hub's defaults (a durable stream's hub
 * is its streams'), over the built-in ones, checked, so that an adapter can fail before it
 * answers anything.
 *
 * @throws TypeError naming the option when a value is out of its range.
 */
export function resolveOpenOptions(options: OpenOptions): ResolvedStreamOptions {
  const hub = (options.durable?.streams.hub ?? options.hub) as Hub | undefined
  return resolveOptions(options, hub && hubInternals.defaults(hub))
}

/** Answers a stream over the hub's limits with a JSON error, for `limitResponse` 429 or 503. */
function refuse(
  connection: Connection,
  stream: SseStream,
  options: ResolvedStreamOptions,
  status: 429 | 503,
  extra: HeaderPairs,
): void {
  // Jittered too, so clients that honour it do not all come back in the same second (C26).
  const headers = { 'Retry-After': String(Math.ceil(jitteredRetry(options) / 1000)) }
  const body = { error: 'too many open streams, retry later' }
  answerJson(connection, stream, status, headers, extra, body)
}

/** The first frame of a hub stream: the retry, and what the client needs to resume (C21, C34). */
function prelude(
  options: ResolvedStreamOptions,
  start: Start,
  lastEventId: string | undefined,
  cursor: (positions: readonly (string | undefined)[]) => string,
): string {
  let frame = retryFrame(options)
  if (start.lost === undefined) {
    // A named event with empty data: browsers take the id without dispatching anything, and
    // clients that take ids only from dispatched events (the `eventsource` package) get it too.
    frame += encodeEvent({ event: CURSOR_EVENT, id: cursor(start.heads) })
  } else if (start.lost.length > 0) {
    const data = JSON.stringify({
      lastEventId: lastEventId ?? null,
      lost: start.lost.map(targetOf),
    })
    // An `id` only when nothing replayed carries one; otherwise the replay ends with the cursor.
    const id = start.replayed.length === 0 ? cursor(start.heads) : undefined
    frame += encodeEvent({ event: HISTORY_LOST_EVENT, id, data })
  }
  return frame
}

function noop(): void {}

/** The store failed while a stream opened: reported, and the stream ends (the client retries). */
function failed(hub: Hub, stream: SseStream, error: unknown): void {
  reportStoreError(hub, error, 'open')
  hubInternals.reportError(hub, error)
  internals.end(stream, 'error')
}

/**
 * Publishes `sse:stream:open` and, when the stream ends, `sse:stream:close`, while someone
 * listens to either: a stream nobody watched open is not reported closed, so they pair up.
 */
function reportOpen(
  stream: SseStream,
  hub: Hub | undefined,
  membership: Membership,
  resuming: boolean,
): void {
  const { streamOpen, streamClose } = channels
  if (!streamOpen.hasSubscribers && !streamClose.hasSubscribers) return
  const { topics = [], key } = membership
  if (streamOpen.hasSubscribers) streamOpen.publish({ stream, hub, topics, key, resuming })
  internals.onClose(stream, () => {
    const reason = stream.closeReason!
    if (streamClose.hasSubscribers) streamClose.publish({ stream, hub, reason })
  })
}

/** Publishes `sse:stream:replay` once a resuming stream's replay is out, if it was timed. */
function reportReplay(hub: Hub, member: Member, start: Start, began: number | undefined): void {
  const { stream } = member
  if (began === undefined || !start.lost || member.pending || stream.closed) return
  if (!channels.replay.hasSubscribers) return
  channels.replay.publish({
    stream,
    hub,
    outcome: start.lost.length > 0 ? 'lost' : 'complete',
    lost: start.lost.map(targetOf),
    replayed: start.replayed.length,
    durationMs: performance.now() - began,
  })
}

/**
 * Opens a stream on a connection: reads the cursor (C19), sends the head (C01-C05) and a first
 * frame at once (C02), and with a hub replays what the client missed before going live
 * (C20, C21), or gives a new client its cursor (C34). Resolves once the head is sent (the
 * replay goes on in the background, ahead of live events); if the client left meanwhile, or
 * the stream was sent away (a shutdown, a limit, a store failure), it is already closed.
 *
 * @throws TypeError naming the option when an option is invalid, before anything is written.
 */
export async function openStream<M extends EventMap = EventMap>(
  connection: Connection,
  options: OpenOptions<M> = {},
): Promise<SseStream<M>> {
  // Core's own bookkeeping does not depend on the event map.
  const hub = (options.durable?.streams.hub ?? options.hub) as Hub | undefined
  const resolved = resolveOpenOptions(options)
  const cursor = readCursor(connection.lastEventIdHeader, connection.url, options.cursorParam)
  const extra = headerPairs(options.headers, connection.http2)
  const headers = streamHeaders(connection.http2)
  const typed = internals.create<M>(connection.sink, resolved, cursor.id, (retryAfterMs) => {
    if (retryAfterMs !== undefined) headers['Retry-After'] = String(Math.ceil(retryAfterMs / 1000))
    connection.writeHead(200, headers, extra)
  })
  const stream = typed as unknown as SseStream
  connection.attach(internals.events(stream), resolved)
  track(stream, connection.server)
  if (hub?.closing || isClosing(connection.server)) {
    internals.end(stream, 'shutdown')
    return typed
  }
  if (connection.method === 'HEAD') {
    // Node sends no body on HEAD and would send the head only on a first write: end at once.
    internals.start(stream, '')
    stream.close()
    return typed
  }
  if (!hub) {
    internals.start(stream, retryFrame(resolved))
    reportOpen(stream, undefined, {}, false)
    return typed
  }
  const limit = hubInternals.refusal(hub, options)
  if (limit) {
    const response = hubInternals.limitResponse(hub)
    if (channels.limit.hasSubscribers) {
      const clientId = options.clientId ?? options.key
      channels.limit.publish({ hub, limit, clientId, response })
    }
    if (response === 'retry') internals.end(stream, 'limit')
    else refuse(connection, stream, resolved, response, extra)
    return typed
  }
  let durable: DurableState | undefined
  if (options.durable) {
    try {
      durable = await openDurable(connection, stream, options.durable, headers, extra)
    } catch (error) {
      failed(hub, stream, error)
      return typed
    }
    if (!durable) return typed
    // A shutdown that ran while the store answered ended the hub's streams, not this one yet.
    if (hub.closing) {
      internals.end(stream, 'shutdown')
      return typed
    }
  }

  const resuming = cursor.id !== undefined || cursor.invalid
  // Join before reading the store, so an event published meanwhile is held back, not missed.
  const log = options.durable && durableLog(options.durable.id)
  const member = hubInternals.join(hub, stream, options, log)
  reportOpen(stream, hub, options, resuming)
  const began = resuming && channels.replay.hasSubscribers ? performance.now() : undefined
  const reading = hubInternals.start(hub, member, resuming ? (cursor.id ?? null) : undefined)
  // A stream that ends while the store is still answering (a shutdown, a feed gap, the client
  // leaving) has its answer already: a web runtime must get its Response now, not after the
  // store (C25).
  let stopWaiting = noop
  const ended = new Promise<undefined>((resolve) => {
    stopWaiting = internals.onClose(stream, () => resolve(undefined))
  })
  let start: Start | undefined
  try {
    start = await Promise.race([reading, ended])
  } catch (error) {
    failed(hub, stream, error)
    return typed
  } finally {
    // An open stream must not keep the wait's promise and closures for its whole life.
    stopWaiting()
  }
  if (!start) {
    reading.catch((error) => {
      reportStoreError(hub, error, 'open')
      hubInternals.reportError(hub, error)
    })
    return typed
  }
  // Ended meanwhile: the client left, or a shutdown or a feed gap sent it away (C25).
  if (stream.closed) return typed
  if (durable && caughtUpWithEnd(connection, stream, durable, start, resuming, extra)) return typed
  if (start.lost) headers[REPLAY_HEADER] = start.lost.length > 0 ? 'lost' : 'complete'
  const encode = (positions: readonly (string | undefined)[]) =>
    hubInternals.cursor(hub, member, positions)
  internals.start(stream, prelude(resolved, start, cursor.id, encode))
  // The replay runs on while the caller goes on (a web runtime must get its Response before
  // anything can drain); live events stay held back until it is done.
  hubInternals.catchUp(hub, member, start).then(
    () => reportReplay(hub, member, start, began),
    (error) => hubInternals.reportError(hub, error),
  )
  return typed
}
