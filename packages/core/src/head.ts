/** The response header that reports how a resume went (C21): `complete` or `lost`. */
export const REPLAY_HEADER = 'SSE-Replay'

/** The event sent first on a resumed stream whose history is gone (C21). */
export const HISTORY_LOST_EVENT = 'history-lost'

/**
 * The event that gives a new stream its cursor in the first frame (C34): `id` is the store's
 * current position and `data` is empty, so browsers dispatch nothing, and the `eventsource`
 * package dispatches it only to listeners of this name.
 */
export const CURSOR_EVENT = 'sse-cursor'

/**
 * The last event of a durable stream that ran to its end: stored, so a late reader gets it too
 * (C29, C30). Its data is what the producer returned, or `null`.
 */
export const DONE_EVENT = 'done'

/**
 * The last event of a durable stream that did not end well (C30). Its data is
 * `{ "reason": "failed" | "cancelled" | "producer-lost" }`. A browser `EventSource` fires it on
 * the same `error` listeners as its connection errors; those get a `MessageEvent` with `data`.
 */
export const ERROR_EVENT = 'error'

/**
 * The response header that tells a client where to resume a durable stream: a URL it reads
 * with GET and `Last-Event-ID` (C29, C32). `@sse/client` follows it.
 */
export const RESUME_HEADER = 'SSE-Resume'

/**
 * The headers of a stream response (C01, C03, C04). `Connection: keep-alive` only on HTTP/1.x:
 * on HTTP/2 connection-specific headers make browsers drop the stream (RFC 9113 8.2.2).
 */
export function streamHeaders(http2: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
  }
  if (!http2) headers.Connection = 'keep-alive'
  return headers
}

/** Headers that HTTP/2 forbids (RFC 9113 8.2.2); removed if middleware set them. */
export const HTTP2_FORBIDDEN_HEADERS = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
] as const
