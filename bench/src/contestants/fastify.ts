import fastifySse from '@sse/fastify'
import Fastify from 'fastify'
import type { StartContestant } from '../protocol.ts'
import { benchHub } from './hub.ts'

const start: StartContestant = async () => {
  const hub = benchHub()
  const app = Fastify({ logger: false })
  await app.register(fastifySse, { hub })
  app.get('/events', async (_request, reply) => {
    // The bench also loads @fastify/sse, whose `reply.sse` augmentation clashes with ours.
    await (reply as unknown as { sse(): Promise<unknown> }).sse()
  })
  await app.listen({ port: 0, host: '127.0.0.1', backlog: 16_384 })
  const address = app.server.address() as import('node:net').AddressInfo
  return {
    port: address.port,
    publish: (data) => void hub.publish({ data }),
    close: () => app.close(),
  }
}
export default start
