import type { EventMap } from './types'

/** The part of `fetch` the client uses; the global `fetch` and most polyfills fit. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>

/** The headers of a request, or a function (maybe async) called before every attempt. */
export type HeadersOption =
  | RequestInit['headers']
  | (() => RequestInit['headers'] | Promise<RequestInit['headers']>)

/**
 * The names of the events that may be read raw: those whose data type is a string (or
 * `unknown`, as in an untyped stream).
 */
export type TextEventName<Events extends EventMap> = {
  [Name in keyof Events & string]: [Events[Name]] extends [string]
    ? Name
    : unknown extends Events[Name]
      ? Name
      : never
}[keyof Events & string]

/** Options of {@link connect}. */
export interface ConnectOptions<Events extends EventMap = Record<string, unknown>> {
  /**
   * The method of the first request. A stream started by another method than GET resumes with
   * GET at the location its response names in an `SSE-Resume` header, and is never sent again.
   * @default 'GET'
   */
  method?: string
  /** The body of the first request (with a method such as POST); sent once. */
  body?: RequestInit['body']
  /**
   * Request headers, or a function (maybe async) that returns them, called before every attempt
   * (to refresh a token, for example). `Accept` and `Last-Event-ID` are set by the client.
   */
  headers?: HeadersOption
  /**
   * Whether cookies go with the request, as `fetch` takes it (browsers only).
   * @default 'same-origin'
   */
  credentials?: 'omit' | 'same-origin' | 'include'
  /**
   * The `fetch` to use, for a proxy agent, a test double or an HTTP/2 client.
   * @default globalThis.fetch
   */
  fetch?: FetchLike
  /** Aborting it ends the stream for good with reason `aborted`. */
  signal?: AbortSignal
  /**
   * The id to resume from on the first request (sent as `Last-Event-ID`), for example one kept
   * from an earlier page load.
   */
  lastEventId?: string
  /**
   * Events whose data is delivered as the text sent, not parsed as JSON: a list of names (whose
   * data type must be a string), or `true` for every event.
   * @default []
   */
  raw?: true | readonly TextEventName<Events>[]
  /**
   * The shortest reconnect delay in milliseconds, used until the server sends `retry:`.
   * @default 1000
   */
  minDelay?: number
  /**
   * The longest delay the exponential backoff grows to, in milliseconds (a server's `retry:` or
   * `Retry-After` above it is still honoured).
   * @default 30000
   */
  maxDelay?: number
  /**
   * How long, in milliseconds, a connection must stay open before the backoff starts again from
   * the shortest delay.
   * @default 5000
   */
  stableAfter?: number
  /**
   * Milliseconds without a byte (no event, no heartbeat comment) after which the connection is
   * taken for dead, aborted and reopened; `false` waits forever. The default is three times
   * `@sse/core`'s 15 s heartbeat.
   * @default 45000
   */
  stallTimeout?: number | false
  /**
   * Called with what an `on()` listener throws; the other listeners still get the event and
   * the stream goes on. (Rethrown, as EventTarget does where there is no `reportError`, it
   * would crash a Node.js process.)
   * @default globalThis.reportError where it exists (browsers, Deno, Bun), else console.error
   */
  onError?: (error: unknown) => void
  /**
   * In a browser page: closes the connection while the page is hidden (a background tab, a
   * locked phone) and reconnects from the last id when it is visible again, so hidden tabs hold
   * no connection. A stream started by another method than GET pauses only once its response
   * named where to resume (`SSE-Resume`); it is never sent again. Ignored outside a page.
   * @default false
   */
  pauseWhenHidden?: boolean
}

/** The options with their defaults, checked. */
export interface ResolvedOptions {
  method: string
  body: RequestInit['body'] | undefined
  headers: HeadersOption | undefined
  credentials: 'omit' | 'same-origin' | 'include'
  fetch: FetchLike
  signal: AbortSignal | undefined
  lastEventId: string | undefined
  raw: true | ReadonlySet<string>
  minDelay: number
  maxDelay: number
  stableAfter: number
  stallTimeout: number | false
  onError: (error: unknown) => void
  pauseWhenHidden: boolean
}

function defaultOnError(error: unknown): void {
  const reportError = (globalThis as { reportError?: (error: unknown) => void }).reportError
  if (typeof reportError === 'function') reportError(error)
  else console.error('[@sse/client] an event listener threw:', error)
}

function milliseconds(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new TypeError(`Invalid option ${name}: expected milliseconds (>= 0), got ${value}`)
  return value
}

function flag(name: string, value: boolean | undefined): boolean {
  if (value === undefined || typeof value === 'boolean') return value ?? false
  throw new TypeError(`Invalid option ${name}: expected a boolean, got ${typeof value}`)
}

/**
 * Applies the defaults and checks the options.
 * @throws TypeError naming the option when one is invalid, or when there is no `fetch`.
 */
export function resolveOptions(options: ConnectOptions<EventMap>): ResolvedOptions {
  const fetch = options.fetch ?? (globalThis.fetch as FetchLike | undefined)
  if (typeof fetch !== 'function')
    throw new TypeError('No fetch: this runtime has no global fetch, pass the `fetch` option')
  const minDelay = milliseconds('minDelay', options.minDelay, 1000)
  const maxDelay = milliseconds('maxDelay', options.maxDelay, 30_000)
  if (maxDelay < minDelay)
    throw new TypeError(`Invalid option maxDelay: ${maxDelay} is below minDelay (${minDelay})`)
  const stallTimeout =
    options.stallTimeout === false
      ? false
      : milliseconds('stallTimeout', options.stallTimeout, 45_000)
  if (stallTimeout === 0) throw new TypeError('Invalid option stallTimeout: use false, not 0')
  return {
    method: (options.method ?? 'GET').toUpperCase(),
    body: options.body,
    headers: options.headers,
    credentials: options.credentials ?? 'same-origin',
    // Called unbound: some runtimes' fetch throws "Illegal invocation" with another `this`.
    fetch: options.fetch ?? ((url, init) => globalThis.fetch(url, init)),
    signal: options.signal,
    lastEventId: options.lastEventId,
    raw: options.raw === true ? true : new Set<string>(options.raw ?? []),
    minDelay,
    maxDelay,
    stableAfter: milliseconds('stableAfter', options.stableAfter, 5000),
    stallTimeout,
    onError: options.onError ?? defaultOnError,
    pauseWhenHidden: flag('pauseWhenHidden', options.pauseWhenHidden),
  }
}
