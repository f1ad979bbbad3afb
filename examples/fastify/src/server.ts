import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import { createHub, MemoryStore, type SseMessage } from '@sse/core'
import fastifySse from '@sse/fastify'
import Fastify, { type FastifyError, type FastifyReply } from 'fastify'

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

const app = Fastify({ bodyLimit: 64 * 1024 })
// The plugin gives every route reply.sse() and ends the open streams on app.close().
await app.register(fastifySse, { hub, shutdown: { grace: 1000 } })
await app.register(fastifyStatic, { root: fileURLToPath(new URL('../../shared', import.meta.url)) })

app.get('/events', async (_request, reply) => {
  await reply.sse()
})

app.post('/notify', async (request, reply) => {
  const text = textOf(request.body)
  if (text === undefined) {
    return reply.code(400).send({ error: 'expected JSON {"text": "<1 to 1000 characters>"}' })
  }
  const id = await hub.publish('notification', { text, time: new Date().toISOString() })
  return reply.code(202).send({ id })
})

async function chat(prompt: unknown, reply: FastifyReply) {
  if (typeof prompt !== 'string' || prompt === '') {
    return reply.code(400).send({ error: 'a prompt is required' })
  }
  // A stream of its own, outside the hub: it ends once the answer is done.
  const session = await reply.sse<ChatEvents>({ hub: undefined })
  await session.pipe(answer(prompt))
}
app.get<{ Querystring: { prompt?: string } }>('/chat', (request, reply) =>
  chat(request.query.prompt, reply),
)
app.post<{ Body: { prompt?: unknown } | null }>('/chat', (request, reply) =>
  chat(request.body?.prompt, reply),
)

// Body parsing fails with 400 (invalid JSON), 413 (over bodyLimit) or 415 (a content type
// Fastify does not parse, which this app answers with 400 like any other bad body).
app.setErrorHandler<FastifyError>((error, _request, reply) => {
  const status = error.statusCode === 415 ? 400 : (error.statusCode ?? 500)
  reply.code(status).send({ error: status < 500 ? error.message : 'internal error' })
})

await app.listen({ port, host })
console.log(`listening on http://${host}:${(app.server.address() as AddressInfo).port}`)

// Ctrl+C: end the open streams (pages reconnect and resume once the server is back), then close.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    clearInterval(ticker)
    await app.close()
  })
}
