import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import * as demo from '@sse/example-shared'
import { closeStreams, sse } from '@sse/koa'
import Koa from 'koa'
import serve from 'koa-static'

const { hub, chats, close } = demo.createDemoHub()
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

// The chat: an answer runs detached and is stored part by part, so a reload reads it again at
// the location its first response names (SSE-Resume).
router.post(
  '/chat',
  async (ctx, next) => {
    if (demo.promptOf(ctx.request.body) === undefined) return ctx.throw(400, demo.missingPrompt)
    await next()
  },
  sse<demo.ChatParts>(async (ctx) => ({
    durable: await demo.startChat(
      chats,
      demo.promptOf(ctx.request.body)!,
      ctx.get('idempotency-key'),
    ),
  })),
)
router.get(
  '/chat/:id',
  sse<demo.ChatParts>((ctx) => ({ durable: chats.chats.get(ctx.params.id as string) })),
)
router.delete('/chat/:id', async (ctx) => {
  if (!(await chats.chats.cancel(ctx.params.id as string))) return ctx.throw(404, demo.noSuchChat)
  ctx.status = 204
})

app.use(router.routes()).use(router.allowedMethods())
app.use(serve(demo.pageDir))

const server = app.listen(demo.settings.port, demo.settings.host, () => demo.logListening(server))

// Ctrl+C: stop the ticks and end every open stream, /events and /chat alike (pages reconnect and
// resume once the server is back), then close.
demo.onShutdown(async () => {
  await Promise.all([close(), closeStreams({ server, grace: demo.shutdownGrace })])
  server.close()
})
