// A reference, not a contestant: Koa alone holding an idle event stream with no SSE library,
// so the memory report can tell what Koa costs per connection from what @sse/koa adds.
import { createServer, type ServerResponse } from 'node:http'
import Koa from 'koa'
import type { StartContestant } from '../protocol.ts'
import { HEAD_FIELDS, holdOpen } from './bare.ts'
import { listen } from './listen.ts'

const start: StartContestant = async () => {
  const app = new Koa()
  const streams = new Set<ServerResponse>()
  app.use((ctx) => {
    ctx.respond = false
    holdOpen(streams, ctx.res.writeHead(200, HEAD_FIELDS))
  })
  return listen(createServer(app.callback()), (data) => {
    const frame = `data: ${JSON.stringify(data)}\n\n`
    for (const res of streams) res.write(frame)
  })
}
export default start
