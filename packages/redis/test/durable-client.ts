import { SseReader } from '@sse/test-utils'

/** A response read with eventsource-parser as its bytes arrive. */
export interface Reply {
  status: number
  headers: Headers
  reader: SseReader
  /** Resolves when the body ended (the server closed it). */
  done: Promise<void>
  abort(): void
}

export async function request(
  url: string,
  init: { method?: string; user?: string; lastEventId?: string; key?: string } = {},
): Promise<Reply> {
  const controller = new AbortController()
  const headers: Record<string, string> = { accept: 'text/event-stream' }
  if (init.user) headers['x-user'] = init.user
  if (init.lastEventId) headers['last-event-id'] = init.lastEventId
  if (init.key) headers['idempotency-key'] = init.key
  const res = await fetch(url, { method: init.method ?? 'GET', headers, signal: controller.signal })
  const reader = new SseReader()
  const done = (async () => {
    try {
      for await (const chunk of (res.body ?? []) as unknown as AsyncIterable<Uint8Array>)
        reader.push(Buffer.from(chunk))
    } catch {
      // aborted by the test
    }
  })()
  return { status: res.status, headers: res.headers, reader, done, abort: () => controller.abort() }
}

/** The token parts a reply got, in order. */
export const parts = (r: Reply) =>
  r.reader.events.filter((e) => e.event === 'token').map((e) => e.data)
/** The last event a reply got. */
export const last = (r: Reply) => r.reader.events.at(-1)
/** `count` tokens as {@link tokens} makes them. */
export const expected = (count: number) => Array.from({ length: count }, (_, i) => `t${i}`)
