import { type ChildProcess, fork } from 'node:child_process'
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { waitFor, within } from '@sse/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { figure, percentile, timeFile } from './support/figures'

timeFile(import.meta.url)

const HEALTHY = 100
const MAX_BUFFERED_BYTES = 256 * 1024
const SAMPLE_EVERY = 100

/** One configuration of the broadcast. */
interface Setup {
  events: number
  /** Bytes of padding in each event's data. */
  padding: number
  /** core/node's `coalesce` option: one socket write per loop turn instead of one per event. */
  coalesce: boolean
}

/**
 * The publisher stays at most this many events ahead of the slowest healthy client: half the
 * bound's worth of frames, so a client that keeps up can never be taken for a slow one.
 */
function windowFor(setup: Setup): number {
  const frame = 60 + setup.padding
  return Math.floor(MAX_BUFFERED_BYTES / 2 / frame)
}

const fixture = fileURLToPath(new URL('./fixtures/broadcast-server.ts', import.meta.url))
const cwd = fileURLToPath(new URL('..', import.meta.url))

interface Report {
  type: 'report'
  publishMs: number
  cpuMs: number
  heapBefore: number
  heapPeak: number
  heapAfter: number
  rssBefore: number
  rssPeak: number
  peakBufferedAllStreams: number
  maxBuffered: Record<string, number>
  reasons: Record<string, string>
  closedAt: Record<string, number>
  open: number
}

type Message = { type: 'listening'; port: number } | { type: 'opened'; name: string } | Report

/** A healthy client: reads everything, counts events, checks order, measures latency. */
class Reader {
  count = 0
  orderErrors = 0
  readonly latencies: number[] = []
  #tail = ''

  push(chunk: Buffer, onProgress: () => void): void {
    const text = this.#tail + chunk.toString('latin1')
    const arrived = performance.timeOrigin + performance.now()
    let pos = 0
    for (let end = text.indexOf('\n\n', pos); end !== -1; end = text.indexOf('\n\n', pos)) {
      if (text.startsWith('event: s\n', pos)) {
        // event: s / id: ... / data: <seq> <published at> <padding>
        const data = text.indexOf('\ndata: ', pos) + 7
        const space = text.indexOf(' ', data)
        const seq = Number(text.slice(data, space))
        const at = Number(text.slice(space + 1, text.indexOf(' ', space + 1)))
        this.latencies.push(arrived - at)
        if (seq !== this.count) this.orderErrors++
        this.count++
      } else if (text.startsWith('id:', pos)) {
        this.count++
      }
      pos = end + 2
    }
    this.#tail = text.slice(pos)
    onProgress()
  }
}

interface Outcome {
  report: Report
  readers: Reader[]
  latencies: number[]
  ms: number
  clientCpuMs: number
}

const children = new Set<ChildProcess>()
const sockets = new Set<{ destroy(): void }>()
afterEach(() => {
  for (const socket of sockets) socket.destroy()
  sockets.clear()
  for (const child of children) child.kill('SIGKILL')
  children.clear()
})

/** One broadcast run against a fresh server process, with or without the slow client. */
async function broadcast(setup: Setup, withSlowClient: boolean): Promise<Outcome> {
  const child = fork(fixture, [], {
    cwd,
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: {
      ...process.env,
      MAX_BUFFERED_BYTES: String(MAX_BUFFERED_BYTES),
      COALESCE: setup.coalesce ? '1' : '0',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  children.add(child)
  const opened = new Set<string>()
  let port = 0
  let report: Report | undefined
  child.on('message', (message: Message) => {
    if (message.type === 'listening') port = message.port
    else if (message.type === 'opened') opened.add(message.name)
    else report = message
  })
  await waitFor('the server process to listen', () => port > 0, { timeout: 20_000 })
  const url = `http://127.0.0.1:${port}/events`

  const readers = Array.from({ length: HEALTHY }, () => new Reader())
  let ackScheduled = false
  const progress = () => {
    if (ackScheduled) return
    ackScheduled = true
    setImmediate(() => {
      ackScheduled = false
      let received = Number.POSITIVE_INFINITY
      for (const reader of readers) received = Math.min(received, reader.count)
      if (child.connected) child.send({ type: 'ack', received })
    })
  }
  for (const [i, reader] of readers.entries()) {
    const req = request(`${url}?name=h${i}`, { agent: false })
    req.on('response', (res) => res.on('data', (chunk: Buffer) => reader.push(chunk, progress)))
    req.on('error', () => {})
    req.end()
    sockets.add(req)
  }
  if (withSlowClient) {
    // A client that sends its request and never reads a byte: the server's writes pile up
    // in the kernel's buffers, then in the server's own queue for it.
    const slow: Socket = connect(port, '127.0.0.1')
    slow.pause()
    slow.on('error', () => {})
    slow.write(`GET /events?name=slow HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
    sockets.add(slow)
  }
  const expected = HEALTHY + (withSlowClient ? 1 : 0)
  await waitFor('every client to be streaming', () => opened.size === expected, {
    timeout: 20_000,
  })
  const start = performance.now()
  const cpu = process.cpuUsage()
  child.send({
    type: 'run',
    events: setup.events,
    window: windowFor(setup),
    batch: 500,
    sampleEvery: SAMPLE_EVERY,
    padding: setup.padding,
  })
  await waitFor('the server to finish publishing', () => report, { timeout: 180_000 })
  await waitFor(
    'the healthy clients to read every event',
    () => readers.every((r) => r.count >= setup.events),
    { timeout: 60_000, interval: 20 },
  )
  const ms = performance.now() - start
  const used = process.cpuUsage(cpu)
  child.send({ type: 'exit' })
  await within('the server process to exit', 10_000, new Promise((r) => child.once('exit', r)))
  children.delete(child)
  return {
    report: report!,
    readers,
    latencies: readers.flatMap((r) => r.latencies),
    ms,
    clientCpuMs: (used.user + used.system) / 1000,
  }
}

const MB = 1024 * 1024

const setups: [string, Setup][] = [
  // A high fan-out broadcast with the default: frames coalesced per loop turn.
  // Events of 160 bytes: the 16 MB sent to the slow client must overflow the kernel's socket
  // buffers (several MB on loopback) before its queue in the server can fill.
  ['coalesced writes', { events: 100_000, padding: 100, coalesce: true }],
  // `coalesce: false`, one socket write per event (about 6 µs of kernel time each, so fewer
  // events, made larger so the slow client still fills the kernel's buffers and its own queue).
  ['direct writes', { events: 6000, padding: 1000, coalesce: false }],
]

/** Runs of each kind, alternated (without, with, without, with). */
const ROUNDS = 2

describe.each(setups)('slow consumer, %s', (label, setup) => {
  // The latency comparison holds runs side by side on a machine that other work may load during
  // one of them: the runs alternate, the best of each kind is compared, and the case has one
  // retry (every attempt's figures are printed).
  it(`drops a client that stops reading while ${setup.events.toLocaleString('en')} events go to it and ${HEALTHY} healthy clients, and only it`, {
    retry: 1,
  }, async () => {
    const baselines: Outcome[] = []
    const slows: Outcome[] = []
    for (let round = 1; round <= ROUNDS; round++) {
      for (const withSlow of [false, true]) {
        const run = await broadcast(setup, withSlow)
        ;(withSlow ? slows : baselines).push(run)
        figure(
          'slow-consumer',
          `${label}, ${withSlow ? 'with' : 'without'} slow client, run ${round}`,
          {
            events: setup.events,
            eventBytes: 60 + setup.padding,
            healthyClients: HEALTHY,
            maxBufferedKiB: MAX_BUFFERED_BYTES / 1024,
            slowClosed: run.report.reasons.slow ?? 'n/a',
            slowDroppedAtEvent: run.report.closedAt.slow ?? 'n/a',
            slowMaxQueuedKiB: (run.report.maxBuffered.slow ?? 0) / 1024,
            healthyClosed: Object.keys(run.report.reasons).filter((n) => n !== 'slow').length,
            p50ms: p50(run),
            p99ms: p99(run),
            heapBeforeMB: run.report.heapBefore / MB,
            heapPeakMB: run.report.heapPeak / MB,
            heapAfterGcMB: run.report.heapAfter / MB,
            rssPeakMB: run.report.rssPeak / MB,
            ms: run.ms,
            serverCpuMs: run.report.cpuMs,
          },
        )
      }
    }
    for (const slow of slows) {
      // The policy applied to the slow client, and to it only.
      expect(slow.report.reasons).toEqual({ slow: 'slow-consumer' })
      expect(slow.report.open).toBe(HEALTHY)
      // What waited for it never went over the bound (plus the one frame that crossed it).
      expect(slow.report.maxBuffered.slow).toBeLessThanOrEqual(MAX_BUFFERED_BYTES + 1024)
      // The server's memory: nothing kept after the run, and a run with a client that never
      // reads peaks no higher than one without it, give or take the bound and GC noise.
      expect(slow.report.heapAfter - slow.report.heapBefore).toBeLessThan(4 * MB)
      for (const baseline of baselines) {
        expect(slow.report.heapPeak - slow.report.heapBefore).toBeLessThan(
          baseline.report.heapPeak - baseline.report.heapBefore + MAX_BUFFERED_BYTES + 16 * MB,
        )
      }
    }
    for (const baseline of baselines) expect(baseline.report.reasons).toEqual({})
    // The healthy clients got every event, in order.
    for (const run of [...baselines, ...slows]) {
      // Sampled events parse as `event: s` first: without samples the ratios below would be NaN.
      expect(run.latencies.length).toBeGreaterThan(0)
      for (const reader of run.readers) {
        expect(reader.count).toBe(setup.events)
        expect(reader.orderErrors).toBe(0)
      }
    }
    // Healthy latency within 2x of the runs without the slow client. p50: best against best, with
    // a floor of 1 ms so that sub-millisecond scheduling noise does not count as a doubling.
    // p99: best against the worst baseline, because the p99 of one run is a GC pause or two: two
    // baselines of the same configuration measured 13 and 122 ms here, so best against best
    // failed on a quiet machine (54 against 14 ms) with no slow client to blame.
    const best = (runs: Outcome[], of: (run: Outcome) => number) => Math.min(...runs.map(of))
    const worst = (runs: Outcome[], of: (run: Outcome) => number) => Math.max(...runs.map(of))
    const ratios = {
      p50: best(slows, p50) / Math.max(best(baselines, p50), 1),
      p99: best(slows, p99) / Math.max(worst(baselines, p99), 1),
    }
    figure('slow-consumer', `${label}: best with / baseline`, {
      p50ms: `${best(slows, p50).toFixed(2)} / ${best(baselines, p50).toFixed(2)}`,
      p99ms: `${best(slows, p99).toFixed(1)} / ${worst(baselines, p99).toFixed(1)}`,
      p50ratio: ratios.p50,
      p99ratio: ratios.p99,
    })
    expect(ratios.p50).toBeLessThanOrEqual(2)
    expect(ratios.p99).toBeLessThanOrEqual(2)
  })
})

function p50(run: Outcome): number {
  return percentile(run.latencies, 50)
}

function p99(run: Outcome): number {
  return percentile(run.latencies, 99)
}
