import { createServer } from 'node:http'
import { createServer as createH2Server } from 'node:http2'
import Router from '@koa/router'
import {
  type ConformanceTarget,
  type DurableScenario,
  listen,
  type RequestInfo,
  type StreamScenario,
} from '@sse/test-utils'
import type { Context } from 'koa'
import { sse } from '../src/index'
import type { KoaClass } from './helpers'

function requestInfo(ctx: Context): RequestInfo {
  return { url: ctx.url, headers: ctx.headers }
}

/** Durable streams as a Koa app serves them: `sse()` with options from an async function. */
function durableRoutes(router: Router, { streams, produce }: DurableScenario) {
  // ctx.get() answers '' for a missing header; the owner is then undefined.
  const owner = (ctx: Context) => ctx.get('x-user') || undefined
  router.post(
    '/durable',
    sse(async (ctx) => ({
      durable: await streams.start({
        owner: owner(ctx),
        idempotencyKey: ctx.get('idempotency-key') || undefined,
        produce,
      }),
    })),
  )
  router.get(
    '/durable/:id',
    sse((ctx) => ({ durable: streams.get(ctx.params.id!, { owner: owner(ctx) }) })),
  )
  router.delete('/durable/:id', async (ctx) => {
    ctx.status = (await streams.cancel(ctx.params.id!, { owner: owner(ctx) })) ? 204 : 404
  })
}

function appFor(Koa: KoaClass, scenario: StreamScenario) {
  const app = new Koa()
  // The suite's failing handlers are expected; anything else still goes to Koa's own logger,
  // so the suite's check for log lines on disconnect (C16) keeps its teeth.
  app.on('error', (error: Error) => {
    if (!error.message.startsWith('handler failed')) app.onerror(error)
  })
  app.use(async (ctx, next) => {
    ctx.set('X-Preset', 'kept')
    await next()
  })
  const router = new Router()
  if (scenario.durable) durableRoutes(router, scenario.durable)
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
    start(scenario) {
      const callback = appFor(Koa, scenario).callback()
      return listen(http2 ? createH2Server(callback) : createServer(callback), { http2 })
    },
  }
}
