// @fastify/sse 0.6: routes opt in with { sse: true }; broadcast is a send() per reply.
import fastifySse from '@fastify/sse'
import Fastify from 'fastify'
import type { StartContestant } from '../protocol.ts'

const start: StartContestant = async () => {
  // biome-ignore lint/suspicious/noExplicitAny: @fastify/sse's reply.sse type is only augmented inside routes
  const streams = new Set<any>()
  const app = Fastify({ logger: false })
  await app.register(fastifySse, { heartbeatInterval: 0 })
  app.get('/events', { sse: true }, async (_request, reply) => {
    const stream = reply.sse
    streams.add(stream)
    stream.onClose?.(() => streams.delete(stream))
    reply.raw.once('close', () => streams.delete(stream))
    stream.keepAlive()
    // @fastify/sse writes the head only with the first event (a client's `open` waits for data):
    // send and flush it now, so connections count as open as with every other contestant.
    stream.sendHeaders()
    reply.raw.flushHeaders()
  })
  await app.listen({ port: 0, host: '127.0.0.1', backlog: 16_384 })
  const address = app.server.address() as import('node:net').AddressInfo
  return {
    port: address.port,
    publish: (data) => {
      for (const stream of streams) stream.send({ data }).catch(() => {})
    },
    close: () => app.close(),
  }
}
export default start
