import type { EventSourceMessage } from 'eventsource-parser'
import { backoffDelay } from './backoff'
import type { ResolvedOptions } from './options'
import { readEvents } from './read-events'
import { classify } from './response'
import type { CloseReason } from './types'
import { currentPage, untilVisible } from './visibility'
import { createWatchdog, sleep, type Watchdog } from './watchdog'

/** The event a `@sse/core` hub sends first to give a new stream its cursor (C34); not delivered. */
const CURSOR_EVENT = 'sse-cursor'

/** What the loop needs from the stream it feeds. */
export interface LoopSink {
  /** Aborted by `close()` or the caller's signal: ends the loop with reason `aborted`. */
  signal: AbortSignal
  /** The last id seen, read before and written during every attempt. */
  lastEventId: string | undefined
  /** Delivers one event; returns a reason to end the stream (data that is not JSON). */
  message(message: EventSourceMessage): CloseReason | undefined
  /** A promise to wait on before reading more, while a `for await` loop is far behind. */
  backlog(): Promise<void> | undefined
}

/** Why one attempt ended, when it did not end the stream. */
interface Failure {
  status?: number
  error?: unknown
  /** The delay the server asked for (`Retry-After`). */
  delay?: number
}

class StallError extends Error {
  override name = 'StallError'
}

async function requestHeaders(
  options: ResolvedOptions,
  lastEventId: string | undefined,
): Promise<Headers> {
  const given = typeof options.headers === 'function' ? await options.headers() : options.headers
  const headers = new Headers(given)
  if (!headers.has('accept')) headers.set('Accept', 'text/event-stream')
  // An empty id resets the cursor: the header is then not sent, as browsers do.
  if (lastEventId) headers.set('Last-Event-ID', lastEventId)
  else headers.delete('Last-Event-ID')
  return headers
}

/**
 * Waits for a reader that is behind, with the stall clock stopped (no byte arrives because the
 * client is not reading), until it caught up or the attempt is aborted.
 */
function behind(backlog: Promise<void>, signal: AbortSignal, watchdog: Watchdog): Promise<void> {
  // Aborted while this chunk was parsed (its data was not JSON, or close()): nothing to wait for.
  if (signal.aborted) return Promise.resolve()
  watchdog.hold()
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done)
      watchdog.kick()
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
    backlog.then(done)
  })
}

/**
 * Runs attempts until the stream ends, and resolves with the reason. Each attempt requests the
 * stream (the first with the caller's method and body, later ones with GET at the `SSE-Resume`
 * location, or at the URL for a GET stream: C32), reads it while it lasts, and schedules the
 * next with the backoff, `retry:` and `Retry-After` (C33).
 */
export async function runLoop(
  url: string,
  options: ResolvedOptions,
  sink: LoopSink,
): Promise<CloseReason> {
  const aborted = (): CloseReason => ({ type: 'aborted', reason: sink.signal.reason })
  let resumeUrl: string | undefined
  let retryFloor: number | undefined
  let attempt = 0
  let first = true
  const page = options.pauseWhenHidden ? currentPage() : undefined
  // Read once per event: a flag is cheaper than the signal's getter.
  let closing = sink.signal.aborted
  sink.signal.addEventListener('abort', () => {
    closing = true
  })
  for (;;) {
    if (sink.signal.aborted) return aborted()
    const target = first
      ? { url, method: options.method, body: options.body }
      : { url: resumeUrl ?? url, method: 'GET', body: undefined }
    // A hidden page holds no connection; the first request of another method goes anyway.
    if (page && target.method === 'GET') await untilVisible(page, sink.signal)
    if (sink.signal.aborted) return aborted()
    first = false
    const controller = new AbortController()
    const abort = () => controller.abort(sink.signal.reason)
    sink.signal.addEventListener('abort', abort, { once: true })
    let paused = false
    const offPage = page?.onChange(() => {
      if (!page.hidden || (target.method !== 'GET' && resumeUrl === undefined)) return
      paused = true
      controller.abort()
    })
    const watchdog = createWatchdog(options.stallTimeout, () =>
      controller.abort(new StallError(`No byte for ${options.stallTimeout} ms`)),
    )
    let openedAt: number | undefined
    let failure: Failure = {}
    let stop: CloseReason | undefined
    try {
      const headers = await requestHeaders(options, sink.lastEventId)
      watchdog.kick()
      const response = await options.fetch(target.url, {
        method: target.method,
        headers,
        credentials: options.credentials,
        signal: controller.signal,
        ...(target.body != null && { body: target.body }),
      })
      const verdict = classify(response, target.url)
      if (verdict.kind !== 'stream' || response.body === null) {
        response.body?.cancel().catch(() => {})
        if (verdict.kind === 'stop') return verdict.reason
        failure = verdict.kind === 'retry' ? { status: verdict.status, delay: verdict.delay } : {}
      } else {
        resumeUrl = verdict.resume ?? resumeUrl
        openedAt = Date.now()
        await readEvents(response.body, {
          onBytes: () => watchdog.kick(),
          onRetry: (ms) => {
            retryFloor = ms
          },
          onMessage: (message) => {
            // Events of a chunk parsed after close() are not delivered; after a stall or a
            // hidden page they are (they arrived whole, in order, and move the cursor).
            if (stop !== undefined || closing) return
            if (message.id !== undefined) sink.lastEventId = message.id
            if (message.event === CURSOR_EVENT) return
            stop = sink.message(message)
            if (stop) controller.abort()
          },
          backlog: () => {
            const backlog = sink.backlog()
            return backlog && behind(backlog, controller.signal, watchdog)
          },
        })
      }
    } catch (error) {
      failure = { error }
    } finally {
      watchdog.stop()
      offPage?.()
      sink.signal.removeEventListener('abort', abort)
    }
    if (stop) return stop
    if (sink.signal.aborted) return aborted()
    // Paused, not failed: no backoff; the next attempt waits for the page to be visible.
    if (paused) continue
    // The request (and its body) was sent once; without a location to resume at, never again.
    if (target.method !== 'GET' && resumeUrl === undefined)
      return {
        type: 'no-resume-location',
        ...(failure.status !== undefined && { status: failure.status }),
        ...(failure.error !== undefined && { error: failure.error }),
      }
    if (openedAt !== undefined && Date.now() - openedAt >= options.stableAfter) attempt = 0
    const delay =
      failure.delay ??
      backoffDelay(attempt, retryFloor ?? options.minDelay, options.minDelay, options.maxDelay)
    attempt++
    await sleep(delay, sink.signal)
  }
}
