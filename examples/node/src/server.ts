import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createHub, MemoryStore } from '@sse/core'
import { openNodeStream } from '@sse/core/node'

type Events = { tick: { n: number; time: string } }

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
const page = readFileSync(new URL('./index.html', import.meta.url))

const hub = createHub<Events>({ store: new MemoryStore({ maxEvents: 500 }), retry: 2000 })

let n = 0
const ticker = setInterval(
  () => {
    hub.publish('tick', { n: ++n, time: new Date().toISOString() })
  },
  Number(process.env.TICK_MS ?? 1000),
)

const server = createServer(async (req, res) => {
  const path = req.url?.split('?')[0]
  if (req.method === 'GET' && path === '/events') {
    await openNodeStream(req, res, { hub })
    return
  }
  if (req.method === 'GET' && path === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page)
    return
  }
  res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not found"}')
})

server.listen(port, host, () => console.log(`SSE demo on http://${host}:${port}`))

// Ctrl+C: end the streams (clients will resume elsewhere or after the restart), then close.
process.once('SIGINT', async () => {
  clearInterval(ticker)
  await hub.shutdown({ grace: 2000 })
  server.close(() => process.exit(0))
})
