import { createServer } from 'node:http'
import { createServer as createH2Server } from 'node:http2'
import { createAdaptorServer } from '@hono/node-server'
import {
  type ConformanceTarget,
  type DurableScenario,
  listen,
  type RequestInfo,
  type StreamScenario,
  serveWebHandler,
} from '@sse/test-utils'
import { type Context, Hono } from 'hono'
import type { StatusCode } from 'hono/utils/http-status'
import { sse, sseMiddleware } from '../src/index'

function requestInfo(c: Context): RequestInfo {
  const url = new URL(c.req.url)
  return { url: url.pathname + url.search, headers: c.req.header() }
}

/** Where the Hono app runs, and which path `sse()` takes there. */
export type HonoServing =
  /** `@hono/node-server` over node:http: `sse()` writes straight to the Node response. */
  | 'node-server'
  /** `@hono/node-server` over h2c (`http2.createServer`): the fast path on HTTP/2. */
  | 'node-server-h2'
  /** `@hono/node-server` with `transport: 'web'`: the ReadableStream body, written by the server. */
  | 'node-server-web'
  /** `app.fetch` behind the suite's node:http bridge: no Node bindings, so the web path. */
  | 'fetch'

/** Durable streams as a Hono app serves them: `sseMiddleware()` with async options. */
function durableRoutes(app: Hono, { streams, produce }: DurableScenario, serving: HonoServing) {
  const transport = serving === 'node-server-web' ? 'web' : 'auto'
  app.post(
    '/durable',
    sseMiddleware(async (c) => ({
      transport,
      durable: await streams.start({
        owner: c.req.header('x-user'),
        idempotencyKey: c.req.header('idempotency-key'),
        produce,
      }),
    })),
  )
  app.get(
    '/durable/:id',
    sseMiddleware((c) => ({
      transport,
      durable: streams.get(c.req.param('id')!, { owner: c.req.header('x-user') }),
    })),
  )
  app.delete('/durable/:id', async (c) => {
    const cancelled = await streams.cancel(c.req.param('id'), { owner: c.req.header('x-user') })
    return c.body(null, cancelled ? 204 : 404)
  })
}

function appFor(scenario: StreamScenario, serving: HonoServing): Hono {
  const app = new Hono()
  app.use(async (c, next) => {
    c.header('X-Preset', 'kept')
    await next()
  })
  if (scenario.durable) durableRoutes(app, scenario.durable, serving)
  app.get('/events', (c) => {
    const info = requestInfo(c)
    const refusal = scenario.refuse?.(info)
    if (refusal) return c.newResponse(refusal.body ?? null, refusal.status as StatusCode)
    return sse(c, (session) => scenario.onOpen?.(session, info), {
      ...scenario.options?.(info),
      transport: serving === 'node-server-web' ? 'web' : 'auto',
      // The suite's failing handlers are expected; anything else is still logged, so the suite's
      // check for log lines on disconnect (C16) keeps its teeth.
      onError: (error) => {
        if (!(error instanceof Error && error.message.startsWith('handler failed'))) {
          console.error(error)
        }
      },
    })
  })
  return app
}

/**
 * The Hono adapter as a conformance target: `sse()` on a route, with `X-Preset` set by an
 * earlier middleware through `c.header()`.
 */
export function honoTarget(name: string, serving: HonoServing): ConformanceTarget {
  return {
    name,
    start(scenario) {
      const app = appFor(scenario, serving)
      if (serving === 'fetch') {
        return listen(createServer(serveWebHandler((request) => app.fetch(request))))
      }
      const http2 = serving === 'node-server-h2'
      const server = createAdaptorServer({
        fetch: app.fetch,
        ...(http2 ? { createServer: createH2Server } : {}),
      })
      return listen(server as Parameters<typeof listen>[0], { http2 })
    },
  }
}
