import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { listen } from '@sse/test-utils'

/** A request as a scripted server saw it. */
export interface SeenRequest {
  method: string
  path: string
  lastEventId: string | undefined
  headers: IncomingMessage['headers']
  body: string
  at: number
}

/** Answers request number `n` (from 0) of a scripted server. */
export type Script = (res: ServerResponse, request: SeenRequest, n: number) => void | Promise<void>

/** A raw node:http server on port 0 whose answers a test writes by hand (misbehaving ones too). */
export interface ScriptedServer {
  url: string
  requests: SeenRequest[]
  close(): Promise<void>
}

export async function scriptedServer(script: Script): Promise<ScriptedServer> {
  const requests: SeenRequest[] = []
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const header = req.headers['last-event-id']
    const seen: SeenRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      lastEventId: Array.isArray(header) ? header[0] : header,
      headers: req.headers,
      body,
      at: performance.now(),
    }
    requests.push(seen)
    res.on('error', () => {})
    await script(res, seen, requests.length - 1)
  })
  const listening = await listen(server)
  return { url: listening.url, requests, close: () => listening.close() }
}

/** Writes the head of an event stream and flushes it. */
export function streamHead(res: ServerResponse, extra: Record<string, string> = {}): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', ...extra })
  res.flushHeaders()
}

/** Ends the stream politely with 204: the client stops. */
export function stop(res: ServerResponse): void {
  res.writeHead(204).end()
}

/** The gaps between consecutive requests, in ms. */
export function gaps(requests: SeenRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.at - requests[i]!.at)
}
