import { type IncomingHttpHeaders, request } from 'node:http'

/** Polls `check` until it returns true; throws with `what` after `timeout` ms. */
export async function waitFor(check: () => boolean, what: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** One event as a client parsed it off the wire. */
export interface WireEvent {
  id: string | undefined
  event: string
  data: string
}

/** A raw text/event-stream reader over node:http (one connection, no reconnection). */
export interface StreamReader {
  status: number
  headers: IncomingHttpHeaders
  events: WireEvent[]
  /** True once the server ended or the socket closed. */
  ended: boolean
  close(): void
}

/** Opens `url` and parses the stream as a spec-compliant client would (LF-only input is enough here). */
export function readStream(
  url: string,
  headers: Record<string, string> = {},
): Promise<StreamReader> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const reader: StreamReader = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        ended: false,
        close: () => req.destroy(),
      }
      let buffer = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        let end = buffer.indexOf('\n\n')
        while (end !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          end = buffer.indexOf('\n\n')
          const event: WireEvent = { id: undefined, event: 'message', data: '' }
          const data: string[] = []
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue
            const colon = line.indexOf(':')
            const field = colon === -1 ? line : line.slice(0, colon)
            let value = colon === -1 ? '' : line.slice(colon + 1)
            if (value.startsWith(' ')) value = value.slice(1)
            if (field === 'data') data.push(value)
            else if (field === 'id') event.id = value
            else if (field === 'event') event.event = value
          }
          if (data.length === 0) continue
          event.data = data.join('\n')
          reader.events.push(event)
        }
      })
      const done = () => {
        reader.ended = true
      }
      res.on('end', done)
      res.on('close', done)
      res.on('error', done)
      resolve(reader)
    })
    req.on('error', reject)
    req.end()
  })
}
