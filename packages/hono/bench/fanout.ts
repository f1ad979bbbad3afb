/**
 * Fan-out comparison on @hono/node-server: one broadcast to a few thousand SSE clients, for
 * `@sse/hono` (fast path, and the web path for reference) against Hono's own `streamSSE`.
 *
 * The server runs in one child process and measures its own CPU time (process.cpuUsage) from the
 * first broadcast until the deliveries stop; the clients are raw `net` sockets in another child
 * process that count the events they receive and, on a sample of them, the latency. Everything
 * is on 127.0.0.1 and stops by itself. Not a test: figures depend on the machine and its load.
 *
 *   pnpm exec tsx bench/fanout.ts [--clients 3000] [--events 40] [--interval 100] [--modes fast,streamSSE,web]
 */
import { type ChildProcess, fork } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { serve } from '@hono/node-server'
import { createHub } from '@sse/core'
import { Hono } from 'hono'
import { type SSEStreamingApi, streamSSE } from 'hono/streaming'
import { sse } from '../src/index'

type Mode = 'fast' | 'web' | 'streamSSE'
type Message = { type: string; [key: string]: unknown }

const self = fileURLToPath(import.meta.url)
const arg = (name: string, fallback: string) => {
  const index = process.argv.indexOf(`--${name}`)
  return index === -1 ? fallback : process.argv[index + 1]!
}

// ---------------------------------------------------------------------------------------------
// Server child: serves GET /events in the given mode, broadcasts on request, reports its CPU.

async function runServer(mode: Mode): Promise<void> {
  const app = new Hono()
  let publish: (data: string) => void
  let size: () => number
  if (mode === 'streamSSE') {
    const subscribers = new Set<SSEStreamingApi>()
    app.get('/events', (c) =>
      streamSSE(c, async (stream) => {
        subscribers.add(stream)
        await new Promise<void>((resolve) => stream.onAbort(() => resolve()))
        subscribers.delete(stream)
      }),
    )
    let id = 0
    publish = (data) => {
      id++
      for (const stream of subscribers) {
        stream.writeSSE({ event: 'tick', data, id: String(id) }).catch(() => {})
      }
    }
    size = () => subscribers.size
  } else {
    const hub = createHub()
    const transport = mode === 'web' ? 'web' : 'auto'
    app.get('/events', (c) => sse(c, undefined, { hub, transport }))
    publish = (data) => {
      hub.publish('tick', data).catch(() => {})
    }
    size = () => hub.size
  }
  const send = (message: Message) => process.send!(message)
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
    send({ type: 'ready', port: info.port, rss: process.memoryUsage().rss }),
  )
  let cpu = process.cpuUsage()
  process.on('message', async (message: Message) => {
    if (message.type === 'start') {
      const { events, interval } = message as unknown as { events: number; interval: number }
      const rss = process.memoryUsage().rss
      cpu = process.cpuUsage()
      for (let i = 0; i < events; i++) {
        publish(JSON.stringify({ t: Date.now(), i }))
        await new Promise((resolve) => setTimeout(resolve, interval))
      }
      send({ type: 'published', subscribers: size(), rss })
    } else if (message.type === 'stop') {
      const used = process.cpuUsage(cpu)
      send({ type: 'cpu', micros: used.user + used.system, subscribers: size() })
      server.close()
      setTimeout(() => process.exit(0), 100).unref()
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Clients child: N raw sockets, counting `event: tick` frames; every 20th one records latency.

async function runClients(port: number, count: number): Promise<void> {
  const send = (message: Message) => process.send!(message)
  const sockets: net.Socket[] = []
  const latencies: number[] = []
  let delivered = 0
  let failed = 0
  const MARK = 'event: tick\n'
  const connectOne = (index: number) =>
    new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      sockets.push(socket)
      let carry = ''
      let opened = false
      socket.setEncoding('utf8')
      socket.on('connect', () =>
        socket.write(
          `GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`,
        ),
      )
      socket.on('data', (chunk: string) => {
        const text = carry + chunk
        if (!opened && text.includes('\r\n\r\n')) {
          opened = true
          resolve()
        }
        let at = text.indexOf(MARK)
        while (at !== -1) {
          delivered++
          if (index % 20 === 0) {
            const match = /"t":(\d+)/.exec(text.slice(at, at + 200))
            if (match) latencies.push(Date.now() - Number(match[1]))
          }
          at = text.indexOf(MARK, at + MARK.length)
        }
        // Keep enough of the tail to find a mark (and its data) split across chunks.
        carry = text.slice(-200)
        const last = carry.lastIndexOf(MARK)
        if (last !== -1) carry = carry.slice(last + MARK.length)
      })
      socket.on('error', () => {
        failed++
        resolve()
      })
    })
  // Connect in batches so the accept queue never overflows.
  for (let i = 0; i < count; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, k) => connectOne(i + k)))
  }
  send({ type: 'connected', ok: count - failed, failed })
  process.on('message', (message: Message) => {
    if (message.type === 'report') {
      const sorted = [...latencies].sort((a, b) => a - b)
      const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
      send({
        type: 'report',
        delivered,
        p50: pick(0.5) ?? null,
        p99: pick(0.99) ?? null,
        max: sorted.at(-1) ?? null,
      })
    } else if (message.type === 'stop') {
      for (const socket of sockets) socket.destroy()
      setTimeout(() => process.exit(0), 100).unref()
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Orchestrator.

function next(child: ChildProcess, type: string, timeout = 120_000): Promise<Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${type}" within ${timeout} ms`)), timeout)
    const onMessage = (message: Message) => {
      if (message.type !== type) return
      clearTimeout(timer)
      child.off('message', onMessage)
      resolve(message)
    }
    child.on('message', onMessage)
  })
}

async function measure(mode: Mode, clients: number, events: number, interval: number) {
  const server = fork(self, ['server', mode])
  const ready = await next(server, 'ready')
  const client = fork(self, ['clients', String(ready.port), String(clients)])
  try {
    const connected = await next(client, 'connected')
    await new Promise((resolve) => setTimeout(resolve, 500))
    server.send({ type: 'start', events, interval })
    const published = await next(server, 'published', events * interval + 120_000)
    // Wait until deliveries stop growing for 1.5 s (or 20 s have passed since the last publish).
    const expected = (connected.ok as number) * events
    const deadline = Date.now() + 20_000
    let last = -1
    let stableSince = Date.now()
    let report: Message
    for (;;) {
      client.send({ type: 'report' })
      report = await next(client, 'report')
      const delivered = report.delivered as number
      if (delivered !== last) {
        last = delivered
        stableSince = Date.now()
      }
      if (delivered >= expected || Date.now() - stableSince > 1500 || Date.now() > deadline) break
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    server.send({ type: 'stop' })
    const cpu = await next(server, 'cpu')
    const delivered = report.delivered as number
    return {
      mode,
      clients: connected.ok as number,
      delivered: `${delivered}/${expected}`,
      ratio: (delivered / expected).toFixed(4),
      cpuMs: Math.round((cpu.micros as number) / 1000),
      cpuPerEventUs: delivered ? ((cpu.micros as number) / delivered).toFixed(1) : 'n/a',
      latencyP50ms: report.p50,
      latencyP99ms: report.p99,
      latencyMaxMs: report.max,
      rssPerClientKB: Math.round(
        ((published.rss as number) - (ready.rss as number)) / 1024 / (connected.ok as number),
      ),
    }
  } finally {
    client.send({ type: 'stop' })
    server.kill()
    await new Promise((resolve) => setTimeout(resolve, 300))
    client.kill()
  }
}

async function main(): Promise<void> {
  const clients = Number(arg('clients', '3000'))
  const events = Number(arg('events', '40'))
  const interval = Number(arg('interval', '100'))
  const modes = arg('modes', 'fast,streamSSE,web').split(',') as Mode[]
  console.log(
    `fan-out: ${clients} clients, ${events} broadcasts every ${interval} ms, Node ${process.version}`,
  )
  const rows = []
  for (const mode of modes) {
    const row = await measure(mode, clients, events, interval)
    console.log(JSON.stringify(row))
    rows.push(row)
  }
  console.table(rows)
}

const role = process.argv[2]
if (role === 'server') await runServer(process.argv[3] as Mode)
else if (role === 'clients') await runClients(Number(process.argv[3]), Number(process.argv[4]))
else await main()
