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
import { openNodeStream } from '@sse/core/node'
import {
  type ConformanceTarget,
  listen,
  type RequestInfo,
  runConformance,
  type StreamScenario,
} from '../../test-utils/src/index'

type Request = IncomingMessage | Http2ServerRequest
type Response = ServerResponse | Http2ServerResponse

/** Serves `scenario` at GET /events with core's Node connection, as an application would. */
function handler(scenario: StreamScenario) {
  return async (req: Request, res: Response) => {
    const out = res as ServerResponse
    if (!req.url?.startsWith('/events')) {
      out.writeHead(404).end()
      return
    }
    const info: RequestInfo = { url: req.url, headers: req.headers }
    out.setHeader('X-Preset', 'kept')
    const refusal = scenario.refuse?.(info)
    if (refusal) {
      out.writeHead(refusal.status).end(refusal.body)
      return
    }
    const session = await openNodeStream(req, res, scenario.options?.(info))
    try {
      await scenario.onOpen?.(session, info)
    } catch {
      session.close('error')
    }
  }
}

const http1: ConformanceTarget = {
  name: 'core over node:http (HTTP/1.1)',
  start: (scenario) => listen(createHttp1Server(handler(scenario))),
}

const http2: ConformanceTarget = {
  name: 'core over node:http2 (h2c, compatibility API)',
  start: (scenario) => listen(createHttp2Server(handler(scenario)), { http2: true }),
}

runConformance(http1)
runConformance(http2)
