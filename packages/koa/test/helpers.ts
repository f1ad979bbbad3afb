import { once } from 'node:events'
import { type IncomingHttpHeaders, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CURSOR_EVENT } from '@sse/core'
import Koa3 from 'koa'
import Koa2 from 'koa2'

/** The Koa constructor of either major; the koa2 alias shares Koa 3's type declarations. */
export type KoaClass = typeof Koa3

/** Both Koa majors the adapter supports, for `describe.each`. */
export const majors: [string, KoaClass][] = [
  ['koa 3', Koa3],
  ['koa 2', Koa2],
]

export async function listen(app: Pick<Koa3, 'listen'>): Promise<{ server: Server; url: string }> {
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}` }
}

export async function stop(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

/** Waits until `check` holds, polling; fails after `timeout` ms. */
export async function until(check: () => boolean, timeout = 10_000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

export interface Frame {
  event?: string
  data?: string
  id?: string
  retry?: string
  comment?: string
}

/**
 * A raw node:http client that records the head, the bytes and the complete frames of a
 * response. Only parses what these tests need; full parsing is the conformance suite's job.
 */
export interface RawStream {
  status: number
  headers: IncomingHttpHeaders
  text: string
  frames: Frame[]
  ended: boolean
  /** The time (performance.now) each frame was complete. */
  times: number[]
  /** Resolves at the response's end or close. */
  done: Promise<void>
  close(): void
  reset(): void
}

export async function openRaw(url: string, headers: Record<string, string> = {}) {
  const req = request(url, { headers: { accept: 'text/event-stream', ...headers } })
  req.end()
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage]
  res.setEncoding('utf8')
  let buffered = ''
  const stream: RawStream = {
    status: res.statusCode ?? 0,
    headers: res.headers,
    text: '',
    frames: [],
    ended: false,
    times: [],
    done: new Promise<void>((resolve) => {
      res.on('end', resolve)
      res.on('close', resolve)
      res.on('error', resolve)
    }).then(() => {
      stream.ended = true
    }),
    close: () => req.destroy(),
    // An RST, as a client that vanishes with unread bytes produces.
    reset: () => req.socket?.resetAndDestroy(),
  }
  res.on('data', (chunk: string) => {
    stream.text += chunk
    buffered += chunk
    let end = buffered.indexOf('\n\n')
    while (end !== -1) {
      const frame: Frame = {}
      for (const line of buffered.slice(0, end).split('\n')) {
        const colon = line.indexOf(':')
        const field = (colon === -1 ? line : line.slice(0, colon)) || 'comment'
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
        const key = field as keyof Frame
        frame[key] = key === 'data' && frame.data !== undefined ? `${frame.data}\n${value}` : value
      }
      buffered = buffered.slice(end + 2)
      end = buffered.indexOf('\n\n')
      // A hub stream's cursor (C34) is checked by the conformance suite, not counted here.
      if (frame.event === CURSOR_EVENT) continue
      stream.frames.push(frame)
      stream.times.push(performance.now())
    }
  })
  res.on('error', () => {})
  return stream
}
