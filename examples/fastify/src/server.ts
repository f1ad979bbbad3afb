import fastifyStatic from '@fastify/static'
import * as demo from '@sse/example-shared'
import fastifySse from '@sse/fastify'
import Fastify, { type FastifyError, type FastifyReply } from 'fastify'

const { hub, stopTicker } = demo.createDemoHub()

const app = Fastify({ bodyLimit: 64 * 1024 })
// The plugin gives every route reply.sse() and ends the open streams on app.close().
await app.register(fastifySse, { hub, shutdown: { grace: demo.shutdownGrace } })
await app.register(fastifyStatic, { root: demo.pageDir })

app.get('/events', async (_request, reply) => {
  await reply.sse()
})

app.post('/notify', async (request, reply) => {
  const text = demo.textOf(request.body)
  if (text === undefined) return reply.code(400).send({ error: demo.invalidText })
  await hub.publish('notification', { text, time: new Date().toISOString() })
  return reply.code(202).send({ ok: true })
})

async function chat(value: unknown, reply: FastifyReply) {
  const prompt = demo.promptOf(value)
  if (prompt === undefined) return reply.code(400).send({ error: demo.missingPrompt })
  // A stream of its own, outside the hub: it ends once the answer is done.
  const session = await reply.sse<demo.ChatEvents>({ hub: undefined })
  await session.pipe(demo.answer(prompt))
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

await app.listen({ port: demo.settings.port, host: demo.settings.host })
demo.logListening(app.server)

// Ctrl+C: end the open streams (pages reconnect and resume once the server is back), then close.
demo.onShutdown(async () => {
  stopTicker()
  await app.close()
})
