// Hono's own streamSSE helper on @hono/node-server, the way its docs show it.
import { createServer } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { type SSEStreamingApi, streamSSE } from 'hono/streaming'
import type { StartContestant } from '../protocol.ts'
import { listen } from './listen.ts'

const start: StartContestant = async () => {
  const streams = new Set<SSEStreamingApi>()
  const app = new Hono()
  app.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      streams.add(stream)
      await new Promise<void>((resolve) => stream.onAbort(resolve))
      streams.delete(stream)
    }),
  )
  return listen(createServer(getRequestListener(app.fetch)), (data) => {
    const text = JSON.stringify(data)
    for (const stream of streams) stream.writeSSE({ data: text }).catch(() => {})
  })
}
export default start
