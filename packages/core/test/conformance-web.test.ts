import { createServer } from 'node:http'
import { openWebStream } from '@sse/core/web'
import {
  type ConformanceTarget,
  listen,
  type RequestInfo,
  runConformance,
  serveWebHandler,
} from '../../test-utils/src/index'

/** Core's web connection (Request in, Response out), served on node:http by the suite's bridge. */
const web: ConformanceTarget = {
  name: 'core openWebStream (web Request/Response, bridged to node:http)',
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
          const headers = { 'X-Preset': 'kept' }
          const refusal = scenario.refuse?.(info)
          if (refusal)
            return new Response(refusal.body ?? null, { status: refusal.status, headers })
          const { session, response } = await openWebStream(request, {
            ...scenario.options?.(info),
            headers,
          })
          Promise.resolve()
            .then(() => scenario.onOpen?.(session, info))
            .catch(() => session.close('error'))
          return response
        }),
      ),
    ),
}

runConformance(web, {
  skip: [
    "C18 a stream with no heartbeat outlives the server's socket timeout -- a web handler cannot reach the socket: its timeouts belong to the runtime serving it (here the test bridge)",
  ],
})
