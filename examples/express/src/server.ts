import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { createHub, MemoryStore, type SseMessage } from '@sse/core'
import { sse } from '@sse/express'
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express'

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

function promptOf(req: Request): string | undefined {
  const prompt = req.method === 'POST' ? req.body?.prompt : req.query.prompt
  return typeof prompt === 'string' && prompt !== '' ? prompt : undefined
}

const app = express()
const json = express.json({ limit: '64kb' })

app.get('/events', sse({ hub }))

app.post('/notify', json, async (req, res) => {
  const text = textOf(req.body)
  if (text === undefined) {
    res.status(400).json({ error: 'expected JSON {"text": "<1 to 1000 characters>"}' })
    return
  }
  const id = await hub.publish('notification', { text, time: new Date().toISOString() })
  res.status(202).json({ id })
})

const requirePrompt: RequestHandler = (req, res, next) => {
  if (promptOf(req) === undefined) res.status(400).json({ error: 'a prompt is required' })
  else next()
}
// A stream of its own, outside the hub: it ends once the answer is done.
const streamAnswer = sse<ChatEvents>({}, (req, res) => res.sse.pipe(answer(promptOf(req)!)))
app.get('/chat', requirePrompt, streamAnswer)
app.post('/chat', json, requirePrompt, streamAnswer)

app.use(express.static(fileURLToPath(new URL('../../shared', import.meta.url))))

// express.json() fails with 400 on invalid JSON and 413 on a body over the limit.
app.use(((error, _req, res, next) => {
  if (res.headersSent) return next(error)
  const status = error.status ?? 500
  res.status(status).json({ error: status < 500 ? error.message : 'internal error' })
}) satisfies ErrorRequestHandler)

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
