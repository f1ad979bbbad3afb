// A reference, not a contestant: Express alone holding an idle event stream with no SSE library,
// so the memory report can tell what Express costs per connection from what @sse/express adds.
import { createServer, type ServerResponse } from 'node:http'
import express from 'express'
import type { StartContestant } from '../protocol.ts'
import { HEAD_FIELDS, holdOpen } from './bare.ts'
import { listen } from './listen.ts'

const start: StartContestant = async () => {
  const app = express()
  const streams = new Set<ServerResponse>()
  app.get('/events', (_req, res) => holdOpen(streams, res.writeHead(200, HEAD_FIELDS)))
  return listen(createServer(app), (data) => {
    const frame = `data: ${JSON.stringify(data)}\n\n`
    for (const res of streams) res.write(frame)
  })
}
export default start
