/**
 * A load-client process of the scale benchmark: opens its share of the connections over raw
 * `net` sockets, each from its planned loopback source address, a bounded number in flight;
 * counts delivered events on every connection and parses every event on one in `sampleEvery`
 * for end-to-end latency (the send time inside the data, on the machine-wide clock).
 */
import { connect, type Socket } from 'node:net'
import { clock, reply } from '../protocol.ts'
import { emptyHistogram, record } from './histogram.ts'
import type { ClientPlan } from './settings.ts'

export type ScaleClientCommand =
  | { cmd: 'connect'; plan: ClientPlan }
  | { cmd: 'reset' }
  | { cmd: 'collect'; sent: number; timeoutMs: number }
  | { cmd: 'exit' }

// Every benchmark event's data starts with this; counting it counts events.
const MARKER = Buffer.from('{"t":')
const FIRST_BYTE_TIMEOUT_MS = 60_000

// Every read of every socket lands in this one buffer (`onread`), and is handled before the
// next read: no Buffer allocated per read, which cost the clients more CPU than the servers.
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024)

interface Connection {
  socket: Socket
  /** How many first bytes of a marker the previous read ended with (a marker split in two). */
  partial: number
  sampled: boolean
  text: string
  open: boolean
}

const connections: Connection[] = []
let latency = emptyHistogram()
let cpuAtReset = process.cpuUsage()
let wallAtReset = performance.now()
let openAtReset = 0
let lastEventAt = performance.now()
/** Events delivered since the last reset, on every connection (kept as it goes: summing 18,000
 * connections every 20 ms while waiting would be client CPU counted in the window). */
let delivered = 0

/**
 * Markers in this read, counting one split across the previous read and this one. The marker
 * has no prefix that is also its suffix, so no marker is counted twice.
 */
function countMarkers(conn: Connection, chunk: Buffer): number {
  let count = 0
  if (conn.partial > 0) {
    const rest = Math.min(MARKER.length - conn.partial, chunk.length)
    if (chunk.compare(MARKER, conn.partial, conn.partial + rest, 0, rest) === 0) {
      if (conn.partial + rest < MARKER.length) {
        conn.partial += rest
        return 0
      }
      count++
    }
  }
  for (let at = chunk.indexOf(MARKER); at !== -1; at = chunk.indexOf(MARKER, at + 5)) count++
  conn.partial = 0
  for (let k = Math.min(MARKER.length - 1, chunk.length); k > 0; k--) {
    if (chunk.compare(MARKER, 0, k, chunk.length - k) === 0) {
      conn.partial = k
      break
    }
  }
  return count
}

function onData(conn: Connection, chunk: Buffer): void {
  const found = countMarkers(conn, chunk)
  if (found > 0) {
    delivered += found
    lastEventAt = performance.now()
  }
  if (!conn.sampled) return
  conn.text += chunk.toString('latin1')
  for (let end = conn.text.indexOf('\n\n'); end !== -1; end = conn.text.indexOf('\n\n')) {
    const t = /"t":([0-9.]+)/.exec(conn.text.slice(0, end))
    if (t) record(latency, clock() - Number(t[1]))
    conn.text = conn.text.slice(end + 2)
  }
}

/** Resolves true once the response's status line says 200, false on any failure. */
function open(plan: ClientPlan, g: number, errors: Record<string, number>): Promise<boolean> {
  return new Promise((resolve) => {
    const port = plan.ports[g % plan.ports.length]!
    const socket = connect({
      port,
      host: '127.0.0.1',
      localAddress: plan.addresses[g % plan.addresses.length]!,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n: number) => read(READ_BUFFER.subarray(0, n)) },
    })
    const conn: Connection = {
      socket,
      partial: 0,
      sampled: g % plan.sampleEvery === 0,
      text: '',
      open: false,
    }
    let settled = false
    const settle = (ok: boolean, reason?: string) => {
      if (settled) return
      settled = true
      if (reason) errors[reason] = (errors[reason] ?? 0) + 1
      if (ok) {
        conn.open = true
        connections.push(conn)
      } else socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => settle(false, 'timeout'))
    socket.once('connect', () => {
      socket.write(
        `GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`,
      )
    })
    // Hoisted: `onread` above calls it for each read.
    function read(chunk: Buffer): boolean {
      if (!settled) {
        socket.setTimeout(0)
        const status = chunk.toString('latin1', 0, 12)
        settle(status === 'HTTP/1.1 200', status === 'HTTP/1.1 200' ? undefined : status)
      }
      onData(conn, chunk)
      return true
    }
    socket.on('error', (error: NodeJS.ErrnoException) => settle(false, error.code ?? error.message))
    socket.on('close', () => {
      conn.open = false
      settle(false, 'closed before a response')
    })
  })
}

async function openAll(plan: ClientPlan) {
  const errors: Record<string, number> = {}
  const started = performance.now()
  let next = plan.from
  let opened = 0
  let failed = 0
  let reported = performance.now()
  // A sliding window of connects: more in flight would only overflow the listen backlog (SYNs
  // dropped and retried a second later).
  const worker = async () => {
    while (next < plan.to) {
      if (await open(plan, next++, errors)) opened++
      else failed++
      if (performance.now() - reported > 500) {
        reported = performance.now()
        process.send!({ progress: { done: opened + failed, opened, failed } })
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(plan.inFlight, plan.to - plan.from) }, worker))
  return { opened, failed, errors, ms: performance.now() - started }
}

const openNow = () => connections.reduce((n, c) => n + (c.open ? 1 : 0), 0)

async function handle(message: ScaleClientCommand): Promise<unknown> {
  switch (message.cmd) {
    case 'connect':
      return openAll(message.plan)
    case 'reset':
      delivered = 0
      latency = emptyHistogram()
      openAtReset = openNow()
      cpuAtReset = process.cpuUsage()
      wallAtReset = performance.now()
      return { open: openAtReset }
    case 'collect': {
      // Wait for the events in flight; stop early once every connection has every event.
      const deadline = performance.now() + message.timeoutMs
      while (delivered < message.sent * openAtReset && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const cpu = process.cpuUsage(cpuAtReset)
      return {
        delivered,
        deliveryMs: lastEventAt - wallAtReset,
        open: openNow(),
        latency,
        cpuUs: cpu.user + cpu.system,
        wallMs: performance.now() - wallAtReset,
      }
    }
    case 'exit':
      process.exit(0)
  }
}

process.on('disconnect', () => process.exit(0))
process.on('message', async (message: ScaleClientCommand) => {
  await reply(await handle(message))
})
await reply({ ready: true })
