import type { AddressInfo } from 'node:net'
import type { ConformanceTarget, DurableScenario, RequestInfo } from '@sse/test-utils'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import fastifySse from '../src/index'

/** Durable streams as a Fastify app serves them: `reply.sse({ durable })`. */
function durableRoutes(app: FastifyInstance, { streams, produce }: DurableScenario) {
  const header = (request: FastifyRequest, name: string) =>
    request.headers[name] as string | undefined
  app.post('/durable', async (request, reply) => {
    const owner = header(request, 'x-user')
    const idempotencyKey = header(request, 'idempotency-key')
    await reply.sse({ durable: await streams.start({ owner, idempotencyKey, produce }) })
  })
  app.get<{ Params: { id: string } }>('/durable/:id', async (request, reply) => {
    const owner = header(request, 'x-user')
    await reply.sse({ durable: streams.get(request.params.id, { owner }) })
  })
  app.delete<{ Params: { id: string } }>('/durable/:id', async (request, reply) => {
    const owner = header(request, 'x-user')
    const cancelled = await streams.cancel(request.params.id, { owner })
    return reply.code(cancelled ? 204 : 404).send()
  })
}

/**
 * The conformance target for `@sse/fastify`: a Fastify 5 app (HTTP/1.1, or h2c with
 * `http2: true`) that serves `GET /events` with `reply.sse()`, setting `X-Preset` in an
 * `onRequest` hook and refusing from a `preHandler` hook, the framework's own ways.
 */
export function fastifyTarget(http2 = false): ConformanceTarget {
  return {
    name: http2 ? 'fastify 5 (h2c)' : 'fastify 5',
    async start(scenario) {
      const app = (http2 ? Fastify({ http2: true }) : Fastify()) as FastifyInstance
      await app.register(fastifySse)
      const info = (request: { url: string; headers: RequestInfo['headers'] }): RequestInfo => ({
        url: request.url,
        headers: request.headers,
      })
      app.addHook('onRequest', async (_request, reply) => {
        reply.header('X-Preset', 'kept')
      })
      app.addHook('preHandler', async (request, reply) => {
        const refusal = scenario.refuse?.(info(request))
        if (refusal)
          return reply
            .code(refusal.status)
            .type('text/plain')
            .send(refusal.body ?? '')
      })
      if (scenario.durable) durableRoutes(app, scenario.durable)
      app.get('/events', async (request, reply) => {
        const session = await reply.sse(scenario.options?.(info(request)))
        await scenario.onOpen?.(session, info(request))
      })
      await app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = app.server.address() as AddressInfo
      return {
        url: `http://127.0.0.1:${port}`,
        http2,
        server: app.server,
        close: () => app.close(),
      }
    },
  }
}
