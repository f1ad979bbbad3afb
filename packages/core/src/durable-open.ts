import type { Connection, HeaderPairs } from './connection'
import { durableInternals } from './durable'
import type { DurableState } from './durable-store'
import type { DurableRef } from './durable-types'
import { RESUME_HEADER } from './head'
import { hubInternals } from './hub'
import type { Start } from './start'
import { streamInternals as internals, type SseStream } from './stream'

/** Answers with a status and a JSON body instead of a stream; the stream is marked ended. */
export function answerJson(
  connection: Connection,
  stream: SseStream,
  status: number,
  headers: Record<string, string>,
  extra: HeaderPairs,
  body: object | undefined,
): void {
  const json = body === undefined ? undefined : JSON.stringify(body)
  const head: Record<string, string> = { 'Cache-Control': 'no-store', ...headers }
  if (json !== undefined) head['Content-Type'] = 'application/json; charset=utf-8'
  connection.writeHead(status, head, extra)
  if (json !== undefined) connection.sink.write(json)
  connection.sink.end()
  internals.abandon(stream, status === 429 || status === 503 ? 'limit' : 'done')
}

/**
 * Looks a durable stream up before its reader joins: another owner's, an expired or an unknown
 * stream gets a 404 that tells nothing of it (C29). A stream that still runs is checked for a
 * dead producer while this reader reads it (C30). The stream's head names where to resume.
 *
 * @returns its record, or undefined when the request was answered
 */
export async function openDurable(
  connection: Connection,
  stream: SseStream,
  ref: DurableRef,
  headers: Record<string, string>,
  extra: HeaderPairs,
): Promise<DurableState | undefined> {
  const state = await ref.streams.state(ref.id, ref.owner)
  if (stream.closed) return undefined
  if (!state) {
    answerJson(connection, stream, 404, {}, extra, { error: 'no such stream' })
    return undefined
  }
  headers[RESUME_HEADER] = ref.location
  if (state.ended) return state
  internals.onClose(stream, durableInternals.watch(ref.streams, ref.id))
  if ('cancelOnDisconnect' in ref && ref.cancelOnDisconnect) {
    internals.onClose(stream, () => {
      if (stream.closeReason !== 'client') return
      ref.streams.cancel(ref.id, { owner: ref.owner }).catch((error: unknown) => {
        hubInternals.reportError(ref.streams.hub, error)
      })
    })
  }
  return state
}

/**
 * A reader of a finished stream that has every part, its end included: 204, so clients
 * (browsers' `EventSource` too) stop reconnecting.
 */
export function caughtUpWithEnd(
  connection: Connection,
  stream: SseStream,
  state: DurableState,
  start: Start,
  resuming: boolean,
  extra: HeaderPairs,
): boolean {
  if (!state.ended || !resuming || start.replayed.length > 0 || start.lost?.length !== 0) {
    return false
  }
  answerJson(connection, stream, 204, {}, extra, undefined)
  return true
}
