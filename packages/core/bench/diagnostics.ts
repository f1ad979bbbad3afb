/**
 * The cost of core's diagnostics channels: server CPU per delivered event with a (no-op)
 * subscriber on every channel, against none, over node:http on loopback. The clients run in a
 * child process (raw sockets, counting frames), so the server's `process.cpuUsage()` is the
 * server's alone. Repetitions alternate the two modes; medians are printed.
 *
 *   node --import tsx packages/core/bench/diagnostics.ts [clients=2000] [rate=20] [seconds=3] [reps=3]
 */
import { fork } from 'node:child_process'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { createHub, SSE_CHANNELS } from '../src/index'
import { openNodeStream } from '../src/node'

const [clients = 2000, rate = 20, seconds = 3, reps = 3] = process.argv
  .slice(2)
  .filter((arg) => arg !== 'client')
  .map(Number)

if (process.argv[2] === 'client') runClients()
else await runServer()

/** The child: opens `clients` sockets, counts `\n\n` frame ends, reports on request. */
function runClients(): void {
  const [port, count] = process.argv.slice(3).map(Number) as [number, number]
  let frames = 0
  let open = 0
  for (let i = 0; i < count; i++) {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n')
    })
    let last = 0
    let headed = false
    socket.on('data', (chunk: Buffer) => {
      if (!headed) {
        headed = true
        open++
        if (open === count) process.send!({ open })
      }
      for (let j = 0; j < chunk.length; j++) {
        const byte = chunk[j]!
        if (byte === 10 && last === 10) frames++
        last = byte
      }
    })
  }
  process.on('message', () => process.send!({ frames }))
}

async function runServer(): Promise<void> {
  const hub = createHub({ heartbeat: false })
  const server = createServer((req, res) => void openNodeStream(req, res, { hub }))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const child = fork(new URL(import.meta.url), ['client', String(port), String(clients)], {
    execArgv: ['--import', 'tsx'],
  })
  const next = () => new Promise<{ frames: number }>((resolve) => child.once('message', resolve))
  await next()
  const frames = async () => {
    const answer = next()
    child.send('count')
    return (await answer).frames
  }
  const data = 'x'.repeat(100)
  const noop = () => {}
  const names = Object.values(SSE_CHANNELS)
  const results: Record<'none' | 'all', number[]> = { none: [], all: [] }
  const window = async () => {
    const before = await frames()
    const cpu = process.cpuUsage()
    const ends = Date.now() + seconds * 1000
    while (Date.now() < ends) {
      void hub.publish('tick', data)
      await new Promise((resolve) => setTimeout(resolve, 1000 / rate))
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
    const used = process.cpuUsage(cpu)
    const delivered = (await frames()) - before
    return (used.user + used.system) / delivered
  }
  await window() // warm-up
  for (let rep = 0; rep < reps; rep++) {
    const order: ('none' | 'all')[] = rep % 2 === 0 ? ['none', 'all'] : ['all', 'none']
    for (const mode of order) {
      if (mode === 'all') for (const name of names) subscribe(name, noop)
      results[mode].push(await window())
      if (mode === 'all') for (const name of names) unsubscribe(name, noop)
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
  const none = median(results.none)
  const all = median(results.all)
  console.log(
    `diagnostics: ${clients} clients, ${rate} events/s of 100 B, ${seconds} s windows, ${reps} reps`,
  )
  console.log(
    `  no subscriber:          ${none.toFixed(2)} µs/event (${results.none.map((x) => x.toFixed(2)).join(', ')})`,
  )
  console.log(
    `  a subscriber on each:   ${all.toFixed(2)} µs/event (${results.all.map((x) => x.toFixed(2)).join(', ')})`,
  )
  console.log(`  ratio: ${(all / none).toFixed(3)}`)
  child.kill()
  server.closeAllConnections()
  server.close()
}
