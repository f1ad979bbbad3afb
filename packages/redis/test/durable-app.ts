import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createDurableStreams, createHub, type DurableStartOptions } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import type { RedisStore } from '../src/index'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export type Events = { token: string }
export type Produce = DurableStartOptions<Events>['produce']

/** What {@link chatApp} serves, and what it saw. */
export interface ChatApp {
  readonly base: string
  readonly server: Server
  readonly errors: unknown[]
  /** How many times this instance ran a producer. */
  runs(): number
  close(): Promise<void>
}

/**
 * A chat app as a user writes it, on one instance: POST /chat starts a durable stream and
 * streams it, GET /chat/:id resumes it, DELETE /chat/:id cancels it; `x-user` is the caller.
 * Shared by the tests' in-process instances and fixtures/durable-instance.ts (so it imports
 * nothing but the packages).
 */
export async function chatApp(
  store: RedisStore,
  produce: Produce,
  options: { lease: number; ttl?: number },
): Promise<ChatApp> {
  const errors: unknown[] = []
  const hub = createHub<Events>({ store, onError: (error) => errors.push(error) })
  const chats = createDurableStreams(hub, { location: (id) => `/chat/${id}`, ...options })
  let runs = 0
  const server = createServer(async (req, res) => {
    const owner = req.headers['x-user'] as string | undefined
    const url = new URL(req.url!, 'http://localhost')
    if (req.method === 'POST') {
      const idempotencyKey = req.headers['idempotency-key'] as string | undefined
      const run = await chats.start({
        owner,
        idempotencyKey,
        produce: (out, signal) => {
          runs++
          return produce(out, signal)
        },
      })
      res.setHeader('x-created', String(run.created))
      return void openNodeStream(req, res, { durable: run })
    }
    const id = url.pathname.slice('/chat/'.length)
    if (req.method === 'DELETE') {
      res.statusCode = (await chats.cancel(id, { owner })) ? 204 : 404
      return void res.end()
    }
    void openNodeStream(req, res, { durable: chats.get(id, { owner }) })
  })
  // The bench opens 1,000 streams at once: Node's default backlog (511) resets some of them.
  await new Promise<void>((resolve) =>
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve),
  )
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    errors,
    runs: () => runs,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A producer of `count` tokens, one every `every` ms, that returns the count. */
export function tokens(count: number, every = 5): Produce {
  return async (out, signal) => {
    for (let i = 0; i < count; i++) {
      await sleep(every)
      signal.throwIfAborted()
      await out.send('token', `t${i}`)
    }
    return { tokens: count }
  }
}
