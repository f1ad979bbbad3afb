// Compiled by `typecheck`, never run: the typing of ctx.sse in the ways Koa apps are written.
import Router, { type RouterMiddleware } from '@koa/router'
import { createHub } from '@sse/core'
import Koa, { type Middleware } from 'koa'
import { sse } from '../src/index'

type Events = { tick: { n: number }; note: string }
const hub = createHub<Events>()
const router = new Router()
const auth: Middleware = async (ctx, next) => {
  if (!ctx.get('authorization')) ctx.throw(401)
  await next()
}
const routerAuth: RouterMiddleware = async (ctx, next) => {
  if (!ctx.params.id) ctx.throw(404)
  await next()
}

// The event map comes from the hub, or from the type argument.
router.get('/a', sse({ hub }), (ctx) => {
  ctx.sse.send('tick', { n: 1 })
  // @ts-expect-error: 'tick' carries { n: number }
  ctx.sse.send('tick', 'no')
  // @ts-expect-error: not an event of the map
  ctx.sse.send('other', 1)
})
router.get(
  '/b',
  auth,
  routerAuth,
  sse<Events>(),
  (ctx) => void ctx.sse.send('note', String(ctx.params.x)),
)
// Inline middleware before sse() keeps its typed ctx, also with inferred type arguments.
router.get(
  '/c',
  async (ctx, next) => {
    ctx.set('X-Id', ctx.params.id ?? '')
    await next()
  },
  sse((ctx) => ({ hub, key: String(ctx.state.user) })),
  (ctx) => void ctx.sse.send('tick', { n: 2 }),
)
router.get(
  '/d',
  async (_ctx, next) => next(),
  sse(),
  (ctx) => void ctx.sse.send('any', [1]),
)
// A router with typed state.
const typed = new Router<{ user: string }>()
typed.get('/e', sse<Events>(), (ctx) => void ctx.sse.send('tick', { n: ctx.state.user.length }))
// Plain app.use() chains.
new Koa().use(sse({ hub, topics: ['t'] })).use(async (ctx) => {
  await ctx.sse.pipe((async function* () {})())
  ctx.sse.send('note', 'done')
})
declare const pick: () => import('@sse/core').OpenOptions | undefined
router.get(
  '/f',
  async (ctx, next) => {
    if (ctx.query.x) return next()
    ctx.status = 401
  },
  sse((ctx) => pick() ?? { key: ctx.url }),
  async (ctx) => void ctx.sse.send('x', 1),
)
router.get(
  '/g',
  async (_ctx, next) => {
    await next()
  },
  sse(() => pick() ?? {}),
  async (ctx) => void ctx.sse.send('x', 1),
)
