import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createDurableStreams,
  createHub,
  type DurableStartOptions,
  type DurableStreams,
  type EventStore,
  type Hub,
} from '@sse/core'
import { openNodeStream } from '@sse/core/node'

// This module imports nothing from vitest: child processes (a killed producer's instance) and
// benchmarks load it by its path.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The events of the chat apps' answers. */
export type ChatEvents = { token: string }
/** A producer of a chat answer. */
export type Produce = DurableStartOptions<ChatEvents>['produce']

/** What {@link chatApp} serves, and what it saw. */
export interface ChatApp {
  readonly base: string
  readonly server: Server
  readonly hub: Hub<ChatEvents>
  readonly chats: DurableStreams<ChatEvents>
  /** What the hub reported to `onError`. */
  readonly errors: unknown[]
  /** How many times this instance ran a producer. */
  runs(): number
  close(): Promise<void>
}

/** Options of {@link chatApp}: the durable streams' and the start's. */
export interface ChatAppOptions {
  lease: number
  ttl?: number
  cancelOnDisconnect?: boolean
  /** The hub's `retry` (ms): how long a cut reader waits before it resumes. */
  retry?: number
}

/**
 * A chat app as a user writes it, on node:http, port 0: POST /chat starts a durable stream on
 * `store` and streams it, GET /chat/:id resumes it, DELETE /chat/:id cancels it; the
 * `x-user` header is the caller (the app's authentication), `idempotency-key` the start's key.
 */
export async function chatApp(
  store: EventStore,
  produce: Produce,
  options: ChatAppOptions,
): Promise<ChatApp> {
  const { cancelOnDisconnect, retry, ...streamsOptions } = options
  const errors: unknown[] = []
  const hub = createHub<ChatEvents>({
    store,
    onError: (error) => errors.push(error),
    ...(retry === undefined ? {} : { retry }),
  })
  const chats = createDurableStreams(hub, { location: (id) => `/chat/${id}`, ...streamsOptions })
  let runs = 0
  const server = createServer(async (req, res) => {
    const owner = req.headers['x-user'] as string | undefined
    const url = new URL(req.url!, 'http://localhost')
    if (req.method === 'POST') {
      const idempotencyKey = req.headers['idempotency-key'] as string | undefined
      const run = await chats.start({
        owner,
        idempotencyKey,
        cancelOnDisconnect,
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
  // Benchmarks open 1,000 streams at once: Node's default backlog (511) resets some of them.
  await new Promise<void>((resolve) =>
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve),
  )
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    hub,
    chats,
    errors,
    runs: () => runs,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A producer of `count` tokens `t0`, `t1`..., one every `every` ms, that returns the count. */
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

/** `count` tokens as {@link tokens} makes them. */
export const expectedTokens = (count: number) => Array.from({ length: count }, (_, i) => `t${i}`)
