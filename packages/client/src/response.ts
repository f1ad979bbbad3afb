import { retryAfterDelay } from './backoff'
import type { CloseReason } from './types'

/** The header that names where a stream resumes with GET (C32). */
export const RESUME_HEADER = 'SSE-Resume'

/** What to do with a response. */
export type Verdict =
  /** A stream: read it. `resume` is the location its `SSE-Resume` header names, if any. */
  | { kind: 'stream'; resume: string | undefined }
  /** A temporary refusal: try again, after `delay` ms when the server said (`Retry-After`). */
  | { kind: 'retry'; status: number; delay: number | undefined }
  /** A final answer: end the stream. */
  | { kind: 'stop'; reason: CloseReason }

/** Whether a `Content-Type` is `text/event-stream` (any parameters, any case). */
export function isEventStream(contentType: string | null): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'text/event-stream'
}

/**
 * Sorts a response (C33): 200 with `text/event-stream` is a stream; 408, 429 and 5xx are
 * retried, with the `Retry-After` of a 429 or 503 honoured; anything else stops the client: 204,
 * a 200 of another type, any other status (401, 403, 404, a redirect that was not followed).
 */
export function classify(response: Response, requestUrl: string): Verdict {
  const { status } = response
  if (status === 204) return { kind: 'stop', reason: { type: 'no-content' } }
  if (status === 200) {
    const contentType = response.headers.get('content-type')
    if (!isEventStream(contentType))
      return { kind: 'stop', reason: { type: 'content-type', contentType } }
    return { kind: 'stream', resume: resumeLocation(response, requestUrl) }
  }
  if (status !== 408 && status !== 429 && (status < 500 || status > 599))
    return { kind: 'stop', reason: { type: 'status', status } }
  const delay =
    status === 429 || status === 503
      ? retryAfterDelay(response.headers.get('retry-after'))
      : undefined
  return { kind: 'retry', status, delay }
}

/**
 * The `SSE-Resume` location, resolved against the response's URL (the request's, unless a
 * redirect was followed). Undefined when absent or not a URL.
 */
export function resumeLocation(response: Response, requestUrl: string): string | undefined {
  const value = response.headers.get(RESUME_HEADER)
  if (value === null || value.trim() === '') return undefined
  try {
    return new URL(value.trim(), response.url || requestUrl).href
  } catch {
    return undefined
  }
}
