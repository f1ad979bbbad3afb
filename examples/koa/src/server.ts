import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import * as demo from '@sse/example-shared'
import { closeStreams, sse } from '@sse/koa'
import Koa from 'koa'
import serve from 'koa-static'

const { hub, close } = demo.createDemoHub()
const app = new Koa()
const router = new Router()

// Errors carry their status: the body parser's are 400 (invalid JSON) and 413 (over the limit).
app.use(async (ctx, next) => {
  try {
    await next()
  } catch (error) {
    const { status = 500, message } = error as { status?: number; message: string }
    ctx.status = status
    ctx.body = { error: status < 500 ? message : 'internal error' }
    if (status >= 500) ctx.app.emit('error', error, ctx)
  }
})
app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '64kb' }))

router.get('/events', sse({ hub }))

router.post('/notify', async (ctx) => {
  const text = demo.textOf(ctx.request.body)
  if (text === undefined) return ctx.throw(400, demo.invalidText)
  await hub.publish('notification', { text, time: new Date().toISOString() })
  ctx.status = 202
  ctx.body = { ok: true }
})

// GET /chat?prompt= or POST /chat {"prompt": ...}: 400 without a prompt.
const requirePrompt: Koa.Middleware = async (ctx, next) => {
  const body = ctx.request.body as { prompt?: unknown } | null | undefined
  const prompt = demo.promptOf(ctx.method === 'POST' ? body?.prompt : ctx.query.prompt)
  if (prompt === undefined) return ctx.throw(400, demo.missingPrompt)
  ctx.state.prompt = prompt
  await next()
}
// A stream of its own, outside the hub: it ends once the answer is done.
const streamAnswer = sse<demo.ChatEvents>()
router.get('/chat', requirePrompt, streamAnswer, (ctx) =>
  ctx.sse.pipe(demo.answer(ctx.state.prompt)),
)
router.post('/chat', requirePrompt, streamAnswer, (ctx) =>
  ctx.sse.pipe(demo.answer(ctx.state.prompt)),
)

app.use(router.routes()).use(router.allowedMethods())
app.use(serve(demo.pageDir))

const server = app.listen(demo.settings.port, demo.settings.host, () => demo.logListening(server))

// Ctrl+C: stop the ticks and end every open stream, /events and /chat alike (pages reconnect and
// resume once the server is back), then close.
demo.onShutdown(async () => {
  await Promise.all([close(), closeStreams({ server, grace: demo.shutdownGrace })])
  server.close()
})
