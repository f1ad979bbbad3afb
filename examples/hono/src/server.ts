import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { serve } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { createHub, MemoryStore, type SseMessage } from '@sse/core'
import { sse, sseMiddleware } from '@sse/hono'
import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { validator } from 'hono/validator'

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

const app = new Hono()
const limit = bodyLimit({
  maxSize: 64 * 1024,
  onError: (c) => c.json({ error: 'the body is over 64 KiB' }, 413),
})

app.get('/events', sseMiddleware({ hub }))

app.post(
  '/notify',
  limit,
  validator('json', (body, c) => {
    const text = textOf(body)
    if (text === undefined) {
      return c.json({ error: 'expected JSON {"text": "<1 to 1000 characters>"}' }, 400)
    }
    return { text }
  }),
  async (c) => {
    const { text } = c.req.valid('json')
    const id = await hub.publish('notification', { text, time: new Date().toISOString() })
    return c.json({ id }, 202)
  },
)

function chat(c: Context, prompt: unknown) {
  if (typeof prompt !== 'string' || prompt === '') {
    return c.json({ error: 'a prompt is required' }, 400)
  }
  // A stream of its own, outside the hub: it ends once the answer is done.
  return sse<ChatEvents>(c, (stream) => stream.pipe(answer(prompt)))
}
app.get('/chat', (c) => chat(c, c.req.query('prompt')))
app.post(
  '/chat',
  limit,
  validator('json', (body: { prompt?: unknown } | null) => body),
  (c) => chat(c, c.req.valid('json')?.prompt),
)

app.use('/*', serveStatic({ root: fileURLToPath(new URL('../../shared', import.meta.url)) }))

// hono/validator throws a 400 HTTPException on a body that is not valid JSON.
app.onError((error, c) => {
  if (error instanceof HTTPException) return c.json({ error: error.message }, error.status)
  console.error(error)
  return c.json({ error: 'internal error' }, 500)
})

const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
  console.log(`listening on http://${host}:${info.port}`)
})

// Ctrl+C: end the open streams (pages reconnect and resume once the server is back), then close.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    clearInterval(ticker)
    await hub.shutdown({ grace: 1000 })
    server.close()
  })
}
