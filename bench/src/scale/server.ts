/**
 * One server process of the scale benchmark:
 * `node --expose-gc --import tsx server.ts <redis url> <prefix>`. @sse/core on node:http with a
 * RedisStore shared by every server process, so an event published on one reaches the streams
 * of all. Reports its own CPU and memory, so nothing of the load clients counts against it.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHub } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { RedisStore } from '@sse/redis'
import { clock, reply } from '../protocol.ts'

export type ScaleServerCommand =
  | { cmd: 'memory' }
  | { cmd: 'cpu-start' }
  | { cmd: 'cpu-read' }
  | { cmd: 'broadcast'; rate: number; seconds: number; bytes: number }
  | { cmd: 'exit' }

const [redisUrl = '', prefix = ''] = process.argv.slice(2)
let storeErrors = 0
const store = new RedisStore({
  redis: redisUrl,
  prefix,
  onError: (error) => {
    if (storeErrors++ < 5)
      console.error(`[server ${process.pid}] redis: ${(error as Error).message}`)
  },
})
await store.ready()
// Heartbeats off: none would fall in a 10 s window at the default interval, and the idle memory
// figure should not depend on a timer's phase.
const hub = createHub({ store, heartbeat: false })
const server = createServer((req, res) => {
  void openNodeStream(req, res, { hub })
})
// The kernel caps the backlog at net.core.somaxconn (4096 here); the clients keep fewer connects
// than that in flight in all.
await new Promise<void>((resolve) =>
  server.listen({ port: 0, host: '127.0.0.1', backlog: 16_384 }, resolve),
)

function rss(): number {
  ;(globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().rss
}

/** The event data: `{"t":<send time ms>,"s":<seq>,"p":"xx…"}`, padded to exactly `bytes`. */
function data(seq: number, bytes: number): string {
  const bare = JSON.stringify({ t: Number(clock().toFixed(3)), s: seq, p: '' })
  return `${bare.slice(0, -2)}${'x'.repeat(Math.max(0, bytes - bare.length))}"}`
}

async function broadcast(rate: number, seconds: number, bytes: number) {
  const total = Math.round(rate * seconds)
  const began = performance.now()
  let sent = 0
  let failed = 0
  // Ticks of 10 ms; each sends what the schedule owes, so timer jitter cannot lower the rate.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - began) / 1000) * rate) + 1)
      while (sent < due) {
        // Data as a string: core sends it as is, so the JSON stays exactly `bytes` long.
        hub.publish({ data: data(sent, bytes) }).catch(() => failed++)
        sent++
      }
      if (sent >= total) {
        clearInterval(timer)
        resolve()
      }
    }, 10)
  })
  return { sent, failed }
}

let cpuAt = process.cpuUsage()
process.on('disconnect', () => process.exit(0))
process.on('message', async (message: ScaleServerCommand) => {
  if (message.cmd === 'memory') await reply({ rss: rss(), streams: hub.size })
  else if (message.cmd === 'cpu-start') {
    cpuAt = process.cpuUsage()
    await reply({ ok: true })
  } else if (message.cmd === 'cpu-read') {
    const cpu = process.cpuUsage(cpuAt)
    await reply({ cpuUs: cpu.user + cpu.system, streams: hub.size, storeErrors })
  } else if (message.cmd === 'broadcast') {
    await reply(await broadcast(message.rate, message.seconds, message.bytes))
  } else if (message.cmd === 'exit') {
    // No graceful close: the kernel closes every socket at once, from this side, so TIME_WAIT
    // stays here and not on the clients' source ports.
    process.exit(0)
  }
})
await reply({ ready: true, port: (server.address() as AddressInfo).port, rss: rss() })
