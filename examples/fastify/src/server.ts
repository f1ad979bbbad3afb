import fastifyStatic from '@fastify/static'
import * as demo from '@sse/example-shared'
import fastifySse from '@sse/fastify'
import Fastify, { type FastifyError } from 'fastify'

const { hub, chats, stopTicker } = demo.createDemoHub()

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

// The chat: an answer runs detached and is stored part by part, so a reload reads it again at
// the location its first response names (SSE-Resume).
app.post<{ Body: unknown }>('/chat', async (request, reply) => {
  const prompt = demo.promptOf(request.body)
  if (prompt === undefined) return reply.code(400).send({ error: demo.missingPrompt })
  const key = request.headers['idempotency-key']
  await reply.sse({ durable: await demo.startChat(chats, prompt, key as string | undefined) })
})
app.get<{ Params: { id: string } }>('/chat/:id', async (request, reply) => {
  await reply.sse({ durable: chats.chats.get(request.params.id) })
})
app.delete<{ Params: { id: string } }>('/chat/:id', async (request, reply) => {
  if (await chats.chats.cancel(request.params.id)) return reply.code(204).send()
  return reply.code(404).send({ error: demo.noSuchChat })
})

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
  await Promise.all([app.close(), chats.hub.shutdown({ grace: demo.shutdownGrace })])
})
