import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import { createHub, MemoryStore, type SseMessage } from '@sse/core'
import { sse } from '@sse/koa'
import Koa from 'koa'
import serve from 'koa-static'

type Events = {
  tick: { n: number; time: string }
  notification: { text: string; time: string }
}
type ChatEvents = { token: string; done: { tokens: number } }

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'

// Ticks and notifications share one store, so every event gets an id a client can resume from.
const hub = createHub<Events>({
  store: new MemoryStore({ maxEvents: 1000 }),
  retry: 1000,
  heartbeat: Number(process.env.HEARTBEAT_MS ?? 15_000),
  maxLifetime: Number(process.env.STREAM_LIFETIME_MS) || false,
})
let n = 0
const ticker = setInterval(
  () => hub.publish('tick', { n: ++n, time: new Date().toISOString() }),
  Number(process.env.TICK_MS ?? 1000),
)

/** The notification text of a request body, when it is a string of 1 to 1000 characters. */
function textOf(body: unknown): string | undefined {
  const text = (body as { text?: unknown } | null | undefined)?.text
  return typeof text === 'string' && text.length >= 1 && text.length <= 1000 ? text : undefined
}

/** A pretend language model: its answer one token at a time, then `done`. */
async function* answer(prompt: string): AsyncGenerator<SseMessage<ChatEvents>> {
  const text = `You asked: "${prompt}". A language model streams its answer like this, one token at a time.`
  const tokens = text.split(/(?= )/)
  for (const token of tokens) {
    await sleep(40)
    yield { event: 'token', data: token }
  }
  yield { event: 'done', data: { tokens: tokens.length } }
}

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
  const text = textOf(ctx.request.body)
  if (text === undefined) return ctx.throw(400, 'expected JSON {"text": "<1 to 1000 characters>"}')
  const id = await hub.publish('notification', { text, time: new Date().toISOString() })
  ctx.status = 202
  ctx.body = { id }
})

// GET /chat?prompt= or POST /chat {"prompt": ...}: 400 without a prompt.
const requirePrompt: Koa.Middleware = async (ctx, next) => {
  const body = ctx.request.body as { prompt?: unknown } | null | undefined
  const prompt = ctx.method === 'POST' ? body?.prompt : ctx.query.prompt
  if (typeof prompt !== 'string' || prompt === '') return ctx.throw(400, 'a prompt is required')
  ctx.state.prompt = prompt
  await next()
}
// A stream of its own, outside the hub: it ends once the answer is done.
const streamAnswer = sse<ChatEvents>()
router.get('/chat', requirePrompt, streamAnswer, (ctx) => ctx.sse.pipe(answer(ctx.state.prompt)))
router.post('/chat', requirePrompt, streamAnswer, (ctx) => ctx.sse.pipe(answer(ctx.state.prompt)))

app.use(router.routes()).use(router.allowedMethods())
app.use(serve(fileURLToPath(new URL('../../shared', import.meta.url))))

const server = app.listen(port, host, () => {
  console.log(`listening on http://${host}:${(server.address() as AddressInfo).port}`)
})

// Ctrl+C: end the open streams (pages reconnect and resume once the server is back), then close.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    clearInterval(ticker)
    await hub.shutdown({ grace: 1000 })
    server.close()
  })
}
