/**
 * `@sse/core/adapter`: the kit for framework adapters and new runtimes. Applications use the
 * main entry (`@sse/core`) and a connection (`@sse/core/node`, `@sse/core/web`) instead.
 * Runtime-neutral, like the main entry.
 * @module
 */
import { type SseStream, streamInternals } from './stream'
import type { CloseReason } from './stream-types'

export type { Connection, ConnectionEvents, HeaderPairs, HeaderValue, Sink } from './connection'
export { type Cursor, MAX_CURSOR_LENGTH, readCursor } from './cursor'
export { HTTP2_FORBIDDEN_HEADERS, streamHeaders } from './head'
export { headerPairs } from './headers'
export { eventMatches } from './members'
export { openStream, resolveOpenOptions as resolveOptions } from './open'
export { type ResolvedStreamOptions, streamDefaults } from './options'

/**
 * Ends a stream because the application's handler failed after it opened (reason `'error'`):
 * the client reconnects after its `retry`. The one way adapters end a stream for a failure.
 */
export function failStream(stream: SseStream): void {
  streamInternals.end(stream, 'error')
}

/** Drops a stream's connection at once, without flushing what is queued. */
export function dropStream(stream: SseStream): void {
  streamInternals.destroy(stream)
}

export type { CloseReason }

/**
 * Calls `listener` once when the stream ends, whatever the reason (at once if it has ended
 * already); returns the function that stops it. What `stream.signal` tells, without the
 * `AbortController` and event listener it costs each stream for its whole life: for adapters
 * that keep thousands of idle streams open.
 */
export function onStreamClose(stream: SseStream, listener: () => void): () => void {
  return streamInternals.onClose(stream, listener)
}
