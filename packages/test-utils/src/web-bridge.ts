import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'

/** A web-standard handler: a Fetch `Request` in, a `Response` out. */
export type WebHandler = (request: Request) => Response | Promise<Response>

/**
 * Turns a node:http request into a Fetch `Request` whose `signal` aborts when the response
 * closes before it finished (the client left), as web runtimes do.
 */
export function toWebRequest(req: IncomingMessage, res: ServerResponse): Request {
  const controller = new AbortController()
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('The client closed the connection'))
  })
  const headers = new Headers()
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!)
  }
  const method = req.method ?? 'GET'
  const hasBody = method !== 'GET' && method !== 'HEAD'
  return new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
    method,
    headers,
    signal: controller.signal,
    ...(hasBody
      ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' as const }
      : {}),
  } as RequestInit)
}

/** Waits for the socket to take the queued bytes; 'close' ends the wait if the client left. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

/**
 * Writes a Fetch `Response` to a node:http response: head first (flushed at once, so a stream's
 * client sees it before any event), then the body with backpressure (waits for `drain`), and
 * cancels the body's reader when the client leaves.
 */
export async function writeWebResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  res.writeHead(response.status, headers)
  if (!response.body) {
    res.end()
    return
  }
  res.flushHeaders()
  const reader = response.body.getReader()
  const cancel = () => {
    reader.cancel().catch(() => {})
  }
  res.once('close', cancel)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (!res.write(value)) {
        // Also stop waiting when the body fails meanwhile (a stuck stream dropped by a shutdown
        // past its grace): a bridge that only waits for 'drain' would never see it.
        await Promise.race([drained(res), reader.closed])
      }
      if (res.destroyed) return
    }
    if (!res.destroyed) res.end()
  } catch {
    // The body failed (a stream dropped on purpose, or cancelled): drop the connection too.
    res.destroy()
  } finally {
    res.off('close', cancel)
  }
}

/**
 * A node:http request listener that serves a web handler: the bridge the web-path targets of
 * the conformance suite run on. A handler that throws gets a 500 (or a dropped connection if
 * the head was already sent); nothing is left unhandled.
 *
 * @example
 * ```ts
 * const server = http.createServer(serveWebHandler(async (request) => new Response('hi')))
 * ```
 */
export function serveWebHandler(
  handler: WebHandler,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const run = async () => {
      const response = await handler(toWebRequest(req, res))
      await writeWebResponse(response, res)
    }
    run().catch(() => {
      if (res.headersSent) res.destroy()
      else res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error')
    })
  }
}
