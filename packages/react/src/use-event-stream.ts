import {
  type ClientEvent,
  type CloseReason,
  type ConnectOptions,
  connect,
  type EventMap,
  type EventStream,
} from '@sse/client'
import { useEffect, useRef, useState } from 'react'

function report(error: unknown): void {
  const reportError = (globalThis as { reportError?: (error: unknown) => void }).reportError
  if (typeof reportError === 'function') reportError(error)
  else console.error('[@sse/react] onEvent threw:', error)
}

/** Options of {@link useEventStream}: those of `@sse/client`'s `connect`, and `onEvent`. */
export interface UseEventStreamOptions<Events extends EventMap>
  extends Omit<ConnectOptions<Events>, 'signal' | 'pauseWhenHidden'> {
  /**
   * Called with every event, in order. The latest function passed is the one called: a new
   * function on every render does not reconnect.
   */
  onEvent?: (event: ClientEvent<Events>) => void
  /**
   * Closes the connection while the page is hidden and resumes from the last id when it is
   * shown again (`@sse/client`'s `pauseWhenHidden`).
   * @default true
   */
  pauseWhenHidden?: boolean
}

/** What {@link useEventStream} returns; it changes (and the component renders) on every event. */
export interface EventStreamState<Events extends EventMap> {
  /** The last event received, or undefined before the first. */
  readonly last: ClientEvent<Events> | undefined
  /** The id the stream resumes from (`Last-Event-ID`), kept across reconnects and remounts. */
  readonly lastEventId: string | undefined
  /** Why the stream ended for good (a 204, a 4xx...), or undefined while it runs. */
  readonly closed: CloseReason | undefined
}

/**
 * Reads a Server-Sent Events stream while the component is mounted, with `@sse/client`:
 * typed events, resume with `Last-Event-ID`, backoff, a stream started by POST resumed by GET
 * and never sent again. Changing `url`, `method` or a string `body` opens a new stream; `null`
 * as `url` opens none. Under React's StrictMode the double mount sends one request, not two
 * (the connection starts after the commit, and a remount resumes from the same id).
 *
 * @example
 * ```ts
 * type Events = { tick: { n: number } }
 * function Clock() {
 *   const { last } = useEventStream<Events>('/events')
 *   return last?.event === 'tick' ? `n = ${last.data.n}` : 'waiting'
 * }
 * ```
 */
export function useEventStream<Events extends EventMap = Record<string, unknown>>(
  url: string | null,
  options: UseEventStreamOptions<Events> = {},
): EventStreamState<Events> {
  const [state, setState] = useState<EventStreamState<Events>>({
    last: undefined,
    lastEventId: options.lastEventId,
    closed: undefined,
  })
  // Read when a stream opens, so new option objects on every render do not reconnect.
  const latest = useRef(options)
  latest.current = options
  const body = typeof options.body === 'string' ? options.body : undefined
  // The id to resume from, for the stream it belongs to: a remount (StrictMode, a route that
  // comes back) resumes; another URL, method or body starts from the caller's `lastEventId`.
  const key = `${options.method ?? 'GET'} ${url} ${body ?? ''}`
  const cursor = useRef({ key, id: options.lastEventId })
  if (cursor.current.key !== key) cursor.current = { key, id: options.lastEventId }

  // biome-ignore lint/correctness/useExhaustiveDependencies: the effect reads method and body through `latest`; `key` is what changes when they do
  useEffect(() => {
    if (url === null) return
    const { onEvent, pauseWhenHidden = true, ...connectOptions } = latest.current
    const controller = new AbortController()
    const mine = cursor.current
    let stream: EventStream<Events> | undefined
    // StrictMode mounts, unmounts and mounts again in one commit: starting after it means the
    // first mount's cleanup cancels a stream that never sent its (maybe POST) request.
    const start = setTimeout(() => {
      const opened = connect<Events>(url, {
        ...connectOptions,
        pauseWhenHidden,
        lastEventId: mine.id,
        signal: controller.signal,
      })
      stream = opened
      void (async () => {
        for await (const event of opened) {
          mine.id = opened.lastEventId
          // TypeScript 5.9 does not relate a generic mapped union to itself here.
          const last = event as EventStreamState<Events>['last']
          setState({ last, lastEventId: opened.lastEventId, closed: undefined })
          try {
            latest.current.onEvent?.(event)
          } catch (error) {
            // A throw here would end the loop and the stream: report it as the client does.
            ;(latest.current.onError ?? report)(error)
          }
        }
        const closed = await opened.closed
        if (!controller.signal.aborted) setState((now) => ({ ...now, closed }))
      })()
    }, 0)
    return () => {
      clearTimeout(start)
      if (stream) mine.id = stream.lastEventId
      controller.abort()
    }
  }, [url, key])

  return state
}
