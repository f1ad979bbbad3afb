/**
 * The load client, in its own process: holds N streaming connections over raw `net` sockets,
 * counts delivered events, samples end-to-end latency from the timestamp inside the event data,
 * and reports its own CPU so a saturated client can be flagged.
 */
import { connect, type Socket } from 'node:net'
import { type ClientCommand, clock, reply } from './protocol.ts'

// Every benchmark event's data starts with this; counting it counts events (heartbeats, retry
// frames and comments never contain it).
const MARKER = Buffer.from('{"t":')
// One connection in SAMPLE_EVERY parses whole events for latency and the last id.
const SAMPLE_EVERY = 50

interface Connection {
  socket: Socket
  events: number
  /** The last bytes of the previous read, so a marker split across reads is still counted. */
  tail: Buffer | undefined
  sampled: boolean
  text: string
  openedAt: number
  firstByteMs: number | undefined
}

let connections: Connection[] = []
let latencies: number[] = []
let lastId: string | undefined
let cpuAtReset = process.cpuUsage()
let wallAtReset = performance.now()
/** When the last benchmark event arrived, for the delivered rate of a server that fell behind. */
let lastEventAt = performance.now()

function countMarkers(buffer: Buffer): number {
  let count = 0
  let at = buffer.indexOf(MARKER)
  while (at !== -1) {
    count++
    at = buffer.indexOf(MARKER, at + MARKER.length)
  }
  return count
}

function onData(conn: Connection, chunk: Buffer): void {
  if (conn.firstByteMs === undefined) conn.firstByteMs = performance.now() - conn.openedAt
  const joined = conn.tail ? Buffer.concat([conn.tail, chunk]) : chunk
  const found = countMarkers(joined)
  if (found > 0) {
    conn.events += found
    lastEventAt = performance.now()
  }
  // Keep the bytes that could start a marker split by this read (shorter than a marker, and the
  // marker has no prefix that is also its suffix, so nothing is counted twice).
  conn.tail = Buffer.from(joined.subarray(Math.max(0, joined.length - (MARKER.length - 1))))
  if (conn.sampled) sample(conn, chunk)
}

function sample(conn: Connection, chunk: Buffer): void {
  conn.text += chunk.toString('latin1')
  let end = conn.text.indexOf('\n\n')
  while (end !== -1) {
    const block = conn.text.slice(0, end)
    conn.text = conn.text.slice(end + 2)
    const id = /(?:^|\n)id: ?([^\r\n]*)/.exec(block)
    if (id) lastId = id[1]
    const t = /"t":([0-9.]+)/.exec(block)
    if (t) latencies.push(clock() - Number(t[1]))
    end = conn.text.indexOf('\n\n')
  }
}

function open(port: number, index: number, lastEventId: string | undefined): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const conn: Connection = {
      socket: connect({ port, host: '127.0.0.1', noDelay: true }),
      events: 0,
      tail: undefined,
      sampled: index % SAMPLE_EVERY === 0,
      text: '',
      openedAt: performance.now(),
      firstByteMs: undefined,
    }
    const resume = lastEventId ? `Last-Event-ID: ${lastEventId}\r\n` : ''
    conn.socket.once('connect', () => {
      conn.socket.write(
        `GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n${resume}\r\n`,
      )
      resolve(conn)
    })
    conn.socket.on('data', (chunk: Buffer) => onData(conn, chunk))
    conn.socket.once('error', reject)
    conn.socket.on('error', () => {})
  })
}

async function openMany(port: number, count: number, lastEventId?: string): Promise<Connection[]> {
  const opened: Connection[] = []
  // A few hundred connects in flight at once: more would only fill the listen backlog.
  const batch = 250
  for (let i = 0; i < count; i += batch) {
    const size = Math.min(batch, count - i)
    opened.push(
      ...(await Promise.all(
        Array.from({ length: size }, (_, j) => open(port, connections.length + i + j, lastEventId)),
      )),
    )
  }
  return opened
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return true
}

function percentiles(values: number[]) {
  if (values.length === 0) return { p50: null, p99: null, max: null }
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1)! }
}

const delivered = () => connections.reduce((sum, c) => sum + c.events, 0)

async function handle(message: ClientCommand): Promise<unknown> {
  switch (message.cmd) {
    case 'connect': {
      const added = await openMany(message.port, message.count)
      connections.push(...added)
      const ok = await waitFor(() => added.every((c) => c.firstByteMs !== undefined), 30_000)
      return {
        connected: connections.length,
        ok,
        ttfb: percentiles(added.map((c) => c.firstByteMs ?? Number.NaN)),
      }
    }
    case 'reset':
      for (const c of connections) c.events = 0
      latencies = []
      cpuAtReset = process.cpuUsage()
      wallAtReset = performance.now()
      return { ok: true }
    case 'collect': {
      // Wait for the events in flight; stop early once the count is complete.
      await waitFor(() => delivered() >= message.expected, message.timeoutMs)
      const cpu = process.cpuUsage(cpuAtReset)
      const wallMs = performance.now() - wallAtReset
      return {
        delivered: delivered(),
        deliveryMs: lastEventAt - wallAtReset,
        latency: percentiles(latencies),
        clientCpuShare: (cpu.user + cpu.system) / 1000 / wallMs,
      }
    }
    case 'storm': {
      // Everyone drops at once and comes back together, resuming from the last id seen.
      const count = connections.length
      const resumeFrom = lastId
      for (const c of connections) c.socket.destroy()
      connections = []
      const started = performance.now()
      connections = await openMany(message.port, count, resumeFrom)
      const ok = await waitFor(() => connections.every((c) => c.firstByteMs !== undefined), 30_000)
      return { ok, ms: performance.now() - started, resumedFrom: resumeFrom ?? null }
    }
    case 'disconnect':
      for (const c of connections) c.socket.destroy()
      connections = []
      return { ok: true }
    case 'exit':
      process.exit(0)
  }
}

process.on('message', async (message: ClientCommand) => {
  await reply(await handle(message))
})
await reply({ ready: true })
