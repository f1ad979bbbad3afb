import { SseReader } from './sse-reader'

/** A response read with fetch, its body parsed by eventsource-parser as its bytes arrive. */
export interface FetchedStream {
  status: number
  headers: Headers
  reader: SseReader
  /** Resolves when the body ended (the server closed it, or the test aborted it). */
  done: Promise<void>
  abort(): void
}

/**
 * Requests a stream with fetch (as `@sse/client` and browsers do): `user` goes in `x-user`,
 * `key` in `idempotency-key`, as the chat apps read them.
 */
export async function fetchStream(
  url: string,
  init: { method?: string; user?: string; lastEventId?: string; key?: string } = {},
): Promise<FetchedStream> {
  const controller = new AbortController()
  const headers: Record<string, string> = { accept: 'text/event-stream' }
  if (init.user) headers['x-user'] = init.user
  if (init.lastEventId) headers['last-event-id'] = init.lastEventId
  if (init.key) headers['idempotency-key'] = init.key
  const res = await fetch(url, { method: init.method ?? 'GET', headers, signal: controller.signal })
  const reader = new SseReader()
  const done = (async () => {
    const body = res.body?.getReader()
    try {
      for (let next = await body?.read(); next && !next.done; next = await body?.read()) {
        reader.push(Buffer.from(next.value))
      }
    } catch {
      // aborted by the test
    }
  })()
  return { status: res.status, headers: res.headers, reader, done, abort: () => controller.abort() }
}

/** The data of the `token` events a stream got, in order. */
export const tokenData = (stream: FetchedStream) =>
  stream.reader.events.filter((e) => e.event === 'token').map((e) => e.data)

/** The last event a stream got. */
export const lastEvent = (stream: FetchedStream) => stream.reader.events.at(-1)
