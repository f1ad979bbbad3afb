import {
  createServer as createHttp1Server,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import {
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2'
import { failStream } from '@sse/core/adapter'
import { openNodeStream } from '@sse/core/node'
import { openWebStream } from '@sse/core/web'
import { durableRoute, serveDurableNode, serveDurableWeb } from './core-durable'
import { listen } from './listen'
import type { ConformanceTarget, RequestInfo, StreamScenario } from './target'
import { serveWebHandler } from './web-bridge'

type Request = IncomingMessage | Http2ServerRequest
type Response = ServerResponse | Http2ServerResponse

/**
 * Serves `scenario` at GET /events with core's Node connection, as an application would: the
 * preset header, the refusal, the stream, and a failing `onOpen` that ends only its stream.
 */
export function coreNodeHandler(scenario: StreamScenario) {
  return async (req: Request, res: Response) => {
    const out = res as ServerResponse
    const durable = scenario.durable && durableRoute(req.url ?? '/')
    if (durable) return serveDurableNode(req, res, scenario.durable!, durable.id)
    if (!req.url?.startsWith('/events')) {
      out.writeHead(404).end()
      return
    }
    const info: RequestInfo = {
      url: req.url,
      // The socket's address as a pseudo-header, so a scenario can limit streams per client.
      headers: { ...req.headers, 'x-remote-address': req.socket?.remoteAddress },
    }
    out.setHeader('X-Preset', 'kept')
    const refusal = scenario.refuse?.(info)
    if (refusal) {
      out.writeHead(refusal.status).end(refusal.body)
      return
    }
    const stream = await openNodeStream(req, res, scenario.options?.(info))
    try {
      await scenario.onOpen?.(stream, info)
    } catch {
      failStream(stream)
    }
  }
}

/** Core over node:http (HTTP/1.1), or node:http2 over h2c with the compatibility API. */
export function coreNodeTarget(
  options: { http2?: boolean; name?: string } = {},
): ConformanceTarget {
  const http2 = options.http2 === true
  return {
    name:
      options.name ??
      (http2 ? 'core over node:http2 (h2c, compatibility API)' : 'core over node:http (HTTP/1.1)'),
    start: (scenario) =>
      http2
        ? listen(createHttp2Server(coreNodeHandler(scenario)), { http2: true })
        : listen(createHttp1Server(coreNodeHandler(scenario))),
  }
}

/** Core's web connection (Request in, Response out), served on node:http by the suite's bridge. */
export function coreWebTarget(
  name = 'core openWebStream (web Request/Response, bridged to node:http)',
): ConformanceTarget {
  return {
    name,
    start: (scenario) =>
      listen(
        createHttp1Server(
          serveWebHandler(async (request) => {
            const url = new URL(request.url)
            const durable = scenario.durable && durableRoute(url.pathname)
            if (durable) return serveDurableWeb(request, scenario.durable!, durable.id)
            if (url.pathname !== '/events') return new Response(null, { status: 404 })
            const info: RequestInfo = {
              url: `${url.pathname}${url.search}`,
              headers: Object.fromEntries(request.headers),
            }
            const headers = { 'X-Preset': 'kept' }
            const refusal = scenario.refuse?.(info)
            if (refusal) {
              return new Response(refusal.body ?? null, { status: refusal.status, headers })
            }
            const { stream, response } = await openWebStream(request, {
              ...scenario.options?.(info),
              headers,
            })
            Promise.resolve()
              .then(() => scenario.onOpen?.(stream, info))
              .catch(() => failStream(stream))
            return response
          }),
        ),
      ),
  }
}
