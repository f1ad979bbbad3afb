import http, { type IncomingHttpHeaders, type Server } from 'node:http'
import http2, { type Http2Server, type ServerHttp2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import { CURSOR_EVENT } from '@sse/core'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { Hono } from 'hono'

/** Both ways `@sse/hono` streams on Node: straight to the response, or a web ReadableStream. */
export const transports = ['node', 'web'] as const
export type Transport = (typeof transports)[number]

/** The `transport` option that makes `sse()` take the given path on @hono/node-server. */
export const transportOption = (t: Transport) => (t === 'web' ? 'web' : 'auto') as 'auto' | 'web'

export interface Served {
  url: string
  server: Server | Http2Server
  /** Closes the server, dropping connections that are still open. */
  close(): Promise<void>
}

type AdaptorServer = (options: {
  fetch: Hono['fetch']
  createServer?: typeof http2.createServer
}) => unknown

/** Serves `app` with `@hono/node-server` (or the given build of it) on 127.0.0.1, port 0. */
export async function serve(
  app: Hono,
  options: { http2?: boolean; adaptor?: AdaptorServer } = {},
): Promise<Served> {
  const adaptor = options.adaptor ?? (createAdaptorServer as AdaptorServer)
  const server = adaptor({
    fetch: app.fetch,
    ...(options.http2 ? { createServer: http2.createServer } : {}),
  }) as Server | Http2Server
  const sessions = new Set<ServerHttp2Session>()
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        if (options.http2) for (const session of sessions) session.destroy()
        else (server as Server).closeAllConnections()
      }),
  }
}

/** A raw client reading one stream through eventsource-parser. */
export interface Stream {
  status: number
  headers: IncomingHttpHeaders | http2.IncomingHttpHeaders
  events: EventSourceMessage[]
  comments: string[]
  text: () => string
  /** Resolves when the server ended the response or the connection closed. */
  ended: Promise<void>
  isEnded: () => boolean
  waitForEvents(count: number, timeout?: number): Promise<EventSourceMessage[]>
  close(): void
}

function reader(status: number, headers: Stream['headers'], close: () => void) {
  let text = ''
  let ended = false
  let markEnded!: () => void
  const events: EventSourceMessage[] = []
  const comments: string[] = []
  const parser = createParser({
    // A hub stream's cursor (C34) is checked by the conformance suite, not counted here.
    onEvent: (event) => event.event !== CURSOR_EVENT && events.push(event),
    onComment: (comment) => comments.push(comment),
  })
  const decoder = new TextDecoder()
  const stream: Stream = {
    status,
    headers,
    events,
    comments,
    text: () => text,
    ended: new Promise<void>((resolve) => {
      markEnded = () => {
        ended = true
        resolve()
      }
    }),
    isEnded: () => ended,
    waitForEvents: async (count, timeout = 5000) => {
      await waitFor(`${count} events (got ${events.length})`, () => events.length >= count, timeout)
      return events
    },
    close,
  }
  const push = (chunk: Buffer) => {
    const decoded = decoder.decode(chunk, { stream: true })
    text += decoded
    parser.feed(decoded)
  }
  return { stream, push, end: () => markEnded() }
}

/** Opens `GET path` with HTTP/1.1 and resolves once the response head has arrived. */
export function open(
  url: string,
  path = '/events',
  headers: Record<string, string> = {},
): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}${path}`, { headers, agent: false }, (res) => {
      const { stream, push, end } = reader(res.statusCode ?? 0, res.headers, () => req.destroy())
      res.on('data', push)
      res.once('close', end)
      resolve(stream)
    })
    req.once('error', reject)
  })
}

/** Opens `GET path` over h2c and resolves once the response head has arrived. */
export function openHttp2(url: string, path = '/events'): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url)
    session.once('error', reject)
    const req = session.request({ ':path': path })
    req.once('error', () => {})
    req.once('response', (headers) => {
      const status = Number(headers[':status'])
      const { stream, push, end } = reader(status, headers, () => session.destroy())
      req.on('data', push)
      req.once('close', () => {
        end()
        session.close()
      })
      resolve(stream)
    })
  })
}

/** Polls `check` until it holds; fails after `timeout` ms with `what` in the message. */
export async function waitFor(what: string, check: () => unknown, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`)
    await sleep(5)
  }
}

/** Use only to prove that something does not happen. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
