/**
 * A server under test, in its own process: `node --expose-gc --import tsx server.ts <name>`.
 * It starts the contestant, then broadcasts events at a fixed rate when told to, and reports its
 * own CPU time and memory, so nothing of the load client is counted against it.
 */
import { contestants } from './contestants/index.ts'
import { clock, reply, type ServerCommand } from './protocol.ts'

const name = process.argv[2] ?? ''
const entry = contestants.find((c) => c.name === name)
if (!entry) throw new Error(`unknown contestant ${name}`)
const server = await (await entry.load())()

function memory() {
  ;(globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().rss
}

async function broadcast(rate: number, seconds: number, bytes: number) {
  const total = Math.round(rate * seconds)
  const pad = 'x'.repeat(Math.max(0, bytes - 36))
  const start = process.cpuUsage()
  const began = performance.now()
  let sent = 0
  // Ticks of 10 ms; each tick sends what the schedule owes, so timer jitter cannot lower the rate.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - began) / 1000) * rate) + 1)
      while (sent < due) {
        server.publish({ t: Number(clock().toFixed(3)), s: sent, p: pad })
        sent++
      }
      if (sent >= total) {
        clearInterval(timer)
        resolve()
      }
    }, 10)
  })
  // Let the sockets take what is queued before the CPU is read: that work belongs to the events.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const cpu = process.cpuUsage(start)
  return { sent, cpuUs: cpu.user + cpu.system }
}

process.on('message', async (message: ServerCommand) => {
  if (message.cmd === 'memory') await reply({ rss: memory() })
  else if (message.cmd === 'broadcast') {
    await reply(await broadcast(message.rate, message.seconds, message.bytes))
  } else if (message.cmd === 'exit') {
    await server.close().catch(() => {})
    process.exit(0)
  }
})
await reply({ ready: true, port: server.port, rss: memory() })
