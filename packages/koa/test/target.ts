import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { createServer as createH2Server, type Http2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'
import Router from '@koa/router'
import type { Context } from 'koa'
// TODO: import from '@sse/test-utils' once its index exports the target types.
import type { ConformanceTarget, RequestInfo, StreamScenario } from '../../test-utils/src/target'
import { sse } from '../src/index'
import type { KoaClass } from './helpers'

function requestInfo(ctx: Context): RequestInfo {
  return { url: ctx.url, headers: ctx.headers }
}

function appFor(Koa: KoaClass, scenario: StreamScenario) {
  const app = new Koa()
  app.use(async (ctx, next) => {
    ctx.set('X-Preset', 'kept')
    await next()
  })
  const router = new Router()
  router.get(
    '/events',
    async (ctx, next) => {
      const refusal = scenario.refuse?.(requestInfo(ctx))
      if (!refusal) return next()
      ctx.status = refusal.status
      if (refusal.body !== undefined) ctx.body = refusal.body
    },
    sse((ctx) => scenario.options?.(requestInfo(ctx)) ?? {}),
    async (ctx) => {
      await scenario.onOpen?.(ctx.sse, requestInfo(ctx))
    },
  )
  return app.use(router.routes())
}

/**
 * The Koa adapter as a conformance target: `sse()` behind `@koa/router`, with `X-Preset` set by
 * an earlier middleware through `ctx.set()`, over node:http or h2c (`http2.createServer`).
 */
export function koaTarget(name: string, Koa: KoaClass, http2 = false): ConformanceTarget {
  return {
    name,
    async start(scenario) {
      const callback = appFor(Koa, scenario).callback()
      if (!http2) {
        const server = createServer(callback).listen(0, '127.0.0.1')
        await once(server, 'listening')
        const { port } = server.address() as AddressInfo
        return {
          url: `http://127.0.0.1:${port}`,
          http2: false,
          server,
          close: () => closeHttp1(server),
        }
      }
      const server = createH2Server(callback)
      const sessions = new Set<Http2Session>()
      server.on('session', (session) => {
        sessions.add(session)
        session.once('close', () => sessions.delete(session))
      })
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      const { port } = server.address() as AddressInfo
      return {
        url: `http://127.0.0.1:${port}`,
        http2: true,
        server,
        close: () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve())
            for (const session of sessions) session.destroy()
          }),
      }
    },
  }
}

function closeHttp1(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}
