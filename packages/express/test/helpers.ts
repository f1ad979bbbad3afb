import { once } from 'node:events'
import { type IncomingHttpHeaders, type IncomingMessage, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CURSOR_EVENT } from '@sse/core'
import express5 from 'express'
import express4 from 'express4'

/** The `express` factory of either major; the express4 alias shares Express 5's types. */
export type ExpressFactory = typeof express5

/** Both Express majors the adapter supports, for `describe.each`. */
export const majors: [string, ExpressFactory][] = [
  ['express 5', express5],
  ['express 4', express4],
]

/** Starts `app` on 127.0.0.1, port 0. */
export async function listen(
  app: ReturnType<ExpressFactory>,
): Promise<{ server: Server; url: string }> {
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}` }
}

/** Closes a server, dropping its open connections. */
export async function stop(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

/** Waits until `check` holds, polling; fails after `timeout` ms (generous: loaded machines). */
export async function until(what: string, check: () => boolean, timeout = 10_000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** One complete frame as these tests need it; full parsing is the conformance suite's job. */
export interface Frame {
  event?: string
  data?: string
  id?: string
  retry?: string
  comment?: string
}

/** A raw node:http response: its head, its text and frames, and how it ended. */
export interface RawStream {
  status: number
  headers: IncomingHttpHeaders
  text: string
  frames: Frame[]
  /** When each frame was complete (performance.now). */
  times: number[]
  /** True when the server ended the response cleanly (last chunk received). */
  complete: boolean
  /** True once the response is over, cleanly or not. */
  closed: boolean
  close(): void
}

function parse(block: string): Frame {
  const frame: Frame = {}
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':')
    const field = ((colon === -1 ? line : line.slice(0, colon)) || 'comment') as keyof Frame
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
    frame[field] = field === 'data' && frame.data !== undefined ? `${frame.data}\n${value}` : value
  }
  return frame
}

/** Opens a GET over node:http (its own connection) and resolves once the head arrived. */
export async function openRaw(url: string, headers: Record<string, string> = {}) {
  const req = request(url, { agent: false, headers: { accept: 'text/event-stream', ...headers } })
  req.end()
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  res.setEncoding('utf8')
  let pending = ''
  const stream: RawStream = {
    status: res.statusCode ?? 0,
    headers: res.headers,
    text: '',
    frames: [],
    times: [],
    complete: false,
    closed: false,
    close: () => req.destroy(),
  }
  res.on('data', (chunk: string) => {
    stream.text += chunk
    pending += chunk
    for (let end = pending.indexOf('\n\n'); end !== -1; end = pending.indexOf('\n\n')) {
      const frame = parse(pending.slice(0, end))
      pending = pending.slice(end + 2)
      // A hub stream's cursor (C34) is checked by the conformance suite, not counted here.
      if (frame.event === CURSOR_EVENT) continue
      stream.frames.push(frame)
      stream.times.push(performance.now())
    }
  })
  res.on('end', () => {
    stream.complete = res.complete
  })
  res.on('close', () => {
    stream.closed = true
  })
  res.on('error', () => {})
  req.on('error', () => {})
  return stream
}
