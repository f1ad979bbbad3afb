import type {
  ConformanceTarget,
  DurableScenario,
  RequestInfo,
  StreamScenario,
} from '@sse/test-utils'
import type { Express, Request, RequestHandler } from 'express'
import { sse } from '../src/index'
import { type ExpressFactory, listen, stop } from './helpers'

/** How the target mounts the adapter: `sse(options)` then a handler, or `sse(options, handler)`. */
export type Form = 'middleware' | 'handler'

function requestInfo(req: Request): RequestInfo {
  return { url: req.originalUrl, headers: req.headers }
}

function quiet(): void {}

/** Durable streams as an Express app serves them: `sse()` ends the POST and GET routes. */
function durableRoutes(app: Express, { streams, produce }: DurableScenario) {
  const owner = (req: Request) => req.get('x-user')
  app.post(
    '/durable',
    sse(async (req) => ({
      onError: quiet,
      durable: await streams.start({
        owner: owner(req),
        idempotencyKey: req.get('idempotency-key'),
        produce,
      }),
    })),
  )
  app.get(
    '/durable/:id',
    sse((req) => ({
      onError: quiet,
      durable: streams.get(String(req.params.id), { owner: owner(req) }),
    })),
  )
  app.delete('/durable/:id', (req, res, next) => {
    streams
      .cancel(req.params.id!, { owner: owner(req) })
      .then((cancelled) => res.sendStatus(cancelled ? 204 : 404), next)
  })
}

function appFor(express: ExpressFactory, scenario: StreamScenario, form: Form) {
  const app = express()
  app.use((_req, res, next) => {
    res.set('X-Preset', 'kept')
    next()
  })
  // The suite checks what the client sees; express.test.ts checks what onError is given.
  const options = (req: Request) => ({ onError: quiet, ...scenario.options?.(requestInfo(req)) })
  const refuse: RequestHandler = (req, res, next) => {
    const refusal = scenario.refuse?.(requestInfo(req))
    if (!refusal) return next()
    res.status(refusal.status).send(refusal.body ?? '')
  }
  if (scenario.durable) durableRoutes(app, scenario.durable)
  if (form === 'handler') {
    app.get(
      '/events',
      refuse,
      sse(options, (req, res) => scenario.onOpen?.(res.sse, requestInfo(req))),
    )
  } else {
    app.get('/events', refuse, sse(options), (req, res) =>
      scenario.onOpen?.(res.sse, requestInfo(req)),
    )
  }
  return app
}

/**
 * The Express adapter as a conformance target: `sse()` on `app.get('/events')` behind a refusing
 * middleware, with `X-Preset` set by an earlier middleware through `res.set()`, over node:http.
 * Express has no HTTP/2 of its own (see the README), so there is no h2 variant.
 */
export function expressTarget(
  name: string,
  express: ExpressFactory,
  form: Form = 'middleware',
): ConformanceTarget {
  return {
    name,
    async start(scenario) {
      const { server, url } = await listen(appFor(express, scenario, form))
      return { url, http2: false, server, close: () => stop(server) }
    },
  }
}
