import { createServer } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import { sse } from '@sse/hono'
import { Hono } from 'hono'
import type { StartContestant } from '../protocol.ts'
import { benchHub } from './hub.ts'
import { listen } from './listen.ts'

const start: StartContestant = async () => {
  const hub = benchHub()
  const app = new Hono()
  app.get('/events', (c) => sse(c, undefined, { hub }))
  return listen(createServer(getRequestListener(app.fetch)), (data) => hub.publish({ data }))
}
export default start
