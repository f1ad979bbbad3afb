import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { openNodeStream } from '@sse/core/node'
import { openWebStream } from '@sse/core/web'
import {
  type ConformanceTarget,
  listen,
  type RequestInfo,
  type StreamScenario,
  serveWebHandler,
} from '@sse/test-utils'
import { majors as expressMajors } from '../../../packages/express/test/helpers'
import { expressTarget } from '../../../packages/express/test/target'
import { fastifyTarget } from '../../../packages/fastify/test/target'
import { honoTarget } from '../../../packages/hono/test/target'
import { majors as koaMajors } from '../../../packages/koa/test/helpers'
import { koaTarget } from '../../../packages/koa/test/target'
import { nestTarget } from '../../../packages/nestjs/test/target'

/**
 * What the suite's servers see of a request: the conformance suite's `RequestInfo` plus the
 * client's address where the target can give it (core over node:http; the adapters' targets
 * give url and headers only, so per-client limits there key on a header a proxy would set).
 */
export type Info = RequestInfo

/** Core over node:http: `openNodeStream` in a plain request listener, as an application would. */
export const coreNode: ConformanceTarget = {
  name: 'core node:http',
  start: (scenario) => listen(createServer(nodeHandler(scenario))),
}

/** The request listener behind {@link coreNode}; also used by the Redis shutdown test. */
export function nodeHandler(scenario: StreamScenario) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.startsWith('/events')) {
      res.writeHead(404).end()
      return
    }
    const info: RequestInfo = {
      url: req.url,
      // The socket's address as a pseudo-header, so scenarios can limit per client address.
      headers: { ...req.headers, 'x-remote-address': req.socket.remoteAddress },
    }
    res.setHeader('X-Preset', 'kept')
    const refusal = scenario.refuse?.(info)
    if (refusal) {
      res.writeHead(refusal.status).end(refusal.body)
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

/** Core's web connection (`openWebStream`), served on node:http by the test-utils bridge. */
export const coreWeb: ConformanceTarget = {
  name: 'core web (Request/Response)',
  start: (scenario) =>
    listen(
      createServer(
        serveWebHandler(async (request) => {
          const url = new URL(request.url)
          if (url.pathname !== '/events') return new Response(null, { status: 404 })
          const info: RequestInfo = {
            url: `${url.pathname}${url.search}`,
            headers: Object.fromEntries(request.headers),
          }
          const refusal = scenario.refuse?.(info)
          if (refusal) return new Response(refusal.body ?? null, { status: refusal.status })
          const { session, response } = await openWebStream(request, scenario.options?.(info))
          Promise.resolve()
            .then(() => scenario.onOpen?.(session, info))
            .catch(() => session.close('error'))
          return response
        }),
      ),
    ),
}

/**
 * Every way of serving streams the suite covers ("per adapter"): core's two connections and each
 * adapter through its own conformance target (packages/<adapter>/test/target.ts), so the servers
 * here are built exactly like the ones the conformance suite checks.
 */
export const adapters: ConformanceTarget[] = [
  coreNode,
  coreWeb,
  expressTarget(...expressMajors[0]!),
  fastifyTarget(),
  koaTarget(...koaMajors[0]!),
  honoTarget('hono (node-server)', 'node-server'),
  nestTarget('express'),
]
