/**
 * `pnpm bench`: runs every contestant in its own server process against one load-client process,
 * in interleaved repetitions, and writes `results/latest.json`, `results/chart.svg` and the
 * table in `bench/README.md`.
 *
 * Flags: `--full` (1 KiB payloads too, longer windows, five repetitions), `--smoke` (a few
 * clients for a second: checks the harness works), `--only=<name>,<name>`, `--reps=<n>`,
 * `--out=<dir>` (elsewhere than results/: the README is left alone).
 */
import { type ChildProcess, fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { contestants, type Entry } from './contestants/index.ts'
import { renderReport } from './report.ts'

interface Scenario {
  clients: number
  rate: number
  bytes: number
}

interface Settings {
  mode: 'default' | 'full' | 'smoke'
  repetitions: number
  seconds: number
  scenarios: Scenario[]
  storm: boolean
  /** A high-rate run for the contestants that coalesce writes (and the floor, for reference). */
  throughput: Scenario
}

const args = process.argv.slice(2)
const flag = (name: string) => args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))
const value = (name: string) => flag(name)?.split('=')[1]

// Rates keep the raw floor around half a core, so every contestant can be measured, and the
// slow ones show how they fall behind rather than all of them saturating.
const settings: Settings = flag('smoke')
  ? {
      mode: 'smoke',
      repetitions: 1,
      seconds: 0.5,
      scenarios: [{ clients: 20, rate: 20, bytes: 100 }],
      storm: true,
      throughput: { clients: 20, rate: 200, bytes: 100 },
    }
  : flag('full')
    ? {
        mode: 'full',
        repetitions: 5,
        seconds: 5,
        scenarios: [
          { clients: 1000, rate: 50, bytes: 100 },
          { clients: 1000, rate: 50, bytes: 1024 },
          { clients: 10_000, rate: 5, bytes: 100 },
          { clients: 10_000, rate: 5, bytes: 1024 },
        ],
        storm: true,
        throughput: { clients: 1000, rate: 2000, bytes: 100 },
      }
    : {
        // Short enough for a routine run (about 15 minutes): the 10,000-client fan-out with idle
        // memory and time to first byte, and the high-rate throughput. --full adds the rest.
        // 4 s windows: with 1.5 s, one GC pause more or less moved a contestant's CPU per event
        // by up to 28% between repetitions (16.1, 12.6 and 15.3 µs for core in one run).
        mode: 'default',
        repetitions: 3,
        seconds: 4,
        scenarios: [{ clients: 10_000, rate: 5, bytes: 100 }],
        storm: false,
        // 2M events/s offered: above what one core delivers, so the figure is the ceiling.
        throughput: { clients: 1000, rate: 2000, bytes: 100 },
      }

if (value('reps')) settings.repetitions = Number(value('reps'))
const only = value('only')?.split(',')
const selected = only ? contestants.filter((c) => only.includes(c.name)) : contestants
const outDir = value('out') ?? fileURLToPath(new URL('../results/', import.meta.url))

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))

/** A child process spoken to with request/response messages, one at a time. */
class Peer {
  readonly #child: ChildProcess
  readonly #ready: Promise<Record<string, unknown>>
  #pending: ((message: Record<string, unknown>) => void) | undefined

  constructor(file: string, argv: string[], execArgv: string[] = []) {
    this.#child = fork(here(file), argv, {
      execArgv: ['--import', 'tsx', ...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#ready = new Promise((resolve, reject) => {
      this.#pending = resolve
      this.#child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)))
    })
    this.#child.on('message', (message) => {
      const pending = this.#pending
      this.#pending = undefined
      pending?.(message as Record<string, unknown>)
    })
  }

  ready() {
    return this.#ready
  }

  ask<T = Record<string, unknown>>(message: object): Promise<T> {
    return new Promise((resolve) => {
      this.#pending = resolve as (m: Record<string, unknown>) => void
      this.#child.send(message)
    })
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve))
    this.#child.send({ cmd: 'exit' })
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}

interface Percentiles {
  p50: number | null
  p99: number | null
  max: number | null
}

interface FanOut {
  clients: number
  bytes: number
  rate: number
  sent: number
  delivered: number
  deliveryRatio: number
  eventsPerSecond: number
  cpuUsPerEvent: number
  latencyMs: Percentiles
  clientCpuShare: number
}

interface Run {
  contestant: string
  repetition: number
  fanOut: FanOut[]
  throughput?: FanOut
  rssPerConnectionKB: number | null
  ttfbMs: Percentiles
  stormMs: number | null
  error?: string
}

async function measure(entry: Entry, repetition: number): Promise<Run> {
  // SSE_BENCH_PROFILE=<dir> writes a V8 CPU profile of each server process there.
  const profile = process.env.SSE_BENCH_PROFILE
  const server = new Peer(
    './server.ts',
    [entry.name],
    ['--expose-gc', ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [])],
  )
  const client = new Peer('./client.ts', [])
  const run: Run = {
    contestant: entry.name,
    repetition,
    fanOut: [],
    rssPerConnectionKB: null,
    ttfbMs: { p50: null, p99: null, max: null },
    stormMs: null,
  }
  try {
    const { port, rss: rssIdle } = (await server.ready()) as { port: number; rss: number }
    await client.ready()
    let connected = 0
    const broadcast = async (scenario: Scenario, clients: number): Promise<FanOut> => {
      await client.ask({ cmd: 'reset' })
      const sent = await server.ask<{ sent: number; cpuUs: number }>({
        cmd: 'broadcast',
        rate: scenario.rate,
        seconds: settings.seconds,
        bytes: scenario.bytes,
      })
      const expected = sent.sent * clients
      const got = await client.ask<{
        delivered: number
        deliveryMs: number
        latency: Percentiles
        clientCpuShare: number
      }>({ cmd: 'collect', expected, timeoutMs: 3000 })
      return {
        clients,
        bytes: scenario.bytes,
        rate: scenario.rate,
        sent: sent.sent,
        delivered: got.delivered,
        deliveryRatio: got.delivered / expected,
        // Over the time deliveries really took: a server that falls behind takes longer.
        eventsPerSecond: got.delivered / (Math.max(got.deliveryMs, settings.seconds * 1000) / 1000),
        cpuUsPerEvent: sent.cpuUs / Math.max(1, got.delivered),
        latencyMs: got.latency,
        clientCpuShare: got.clientCpuShare,
      }
    }
    const most = Math.max(...settings.scenarios.map((s) => s.clients))
    // Opens clients up to `total`; at the most clients of the run, also time to first byte and
    // idle memory (before any broadcast to that many).
    const connectTo = async (total: number) => {
      if (total <= connected) return
      const result = await client.ask<{ ok: boolean; ttfb: Percentiles }>({
        cmd: 'connect',
        port,
        count: total - connected,
      })
      if (!result.ok) throw new Error(`not every client got a first byte at ${total}`)
      connected = total
      if (connected === most) {
        run.ttfbMs = result.ttfb
        const { rss } = await server.ask<{ rss: number }>({ cmd: 'memory' })
        run.rssPerConnectionKB = (rss - rssIdle) / 1024 / connected
      }
    }
    for (const scenario of settings.scenarios) {
      await connectTo(scenario.clients)
      run.fanOut.push(await broadcast(scenario, connected))
    }
    if (settings.storm) {
      const storm = await client.ask<{ ok: boolean; ms: number }>({ cmd: 'storm', port })
      run.stormMs = storm.ok ? storm.ms : null
    }
    // Last, so its heavy traffic cannot weigh on the idle-memory figure: back to its client count.
    if (entry.throughput) {
      await client.ask({ cmd: 'disconnect' })
      connected = 0
      await connectTo(settings.throughput.clients)
      run.throughput = await broadcast(settings.throughput, connected)
    }
  } catch (error) {
    run.error = (error as Error).message
  } finally {
    await Promise.allSettled([client.stop(), server.stop()])
  }
  return run
}

const median = (values: number[]) => {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  return finite.length ? finite[Math.floor((finite.length - 1) / 2)]! : null
}

/** How far apart the repetitions are: the largest over the smallest (1 with one repetition). */
const spread = (values: number[]) => {
  const finite = values.filter((v) => Number.isFinite(v) && v > 0)
  return finite.length ? Math.max(...finite) / Math.min(...finite) : null
}

function summarize(runs: Run[]) {
  const floorName = contestants[0]!.name
  const rows = selected.map((entry) => {
    const mine = runs.filter((r) => r.contestant === entry.name && !r.error)
    const scenarios = settings.scenarios.map((scenario, i) => {
      const results = mine.map((r) => r.fanOut[i]).filter((f): f is FanOut => f !== undefined)
      const pick = (get: (f: FanOut) => number | null) =>
        median(results.map(get).filter((v): v is number => v !== null))
      return {
        ...scenario,
        cpuUsPerEvent: pick((f) => f.cpuUsPerEvent),
        cpuSpread: spread(results.map((f) => f.cpuUsPerEvent)),
        eventsPerSecond: pick((f) => f.eventsPerSecond),
        deliveryRatio: pick((f) => f.deliveryRatio),
        latencyP50Ms: pick((f) => f.latencyMs.p50),
        latencyP99Ms: pick((f) => f.latencyMs.p99),
        latencyMaxMs: pick((f) => f.latencyMs.max),
        // A run where the load client used most of a core measured the client, not the server.
        clientSaturated: results.some((f) => f.clientCpuShare > 0.9),
      }
    })
    const rates = mine.map((r) => r.throughput).filter((f): f is FanOut => f !== undefined)
    const throughput = rates.length
      ? {
          ...settings.throughput,
          eventsPerSecond: median(rates.map((f) => f.eventsPerSecond)),
          deliveryRatio: median(rates.map((f) => f.deliveryRatio)),
          cpuUsPerEvent: median(rates.map((f) => f.cpuUsPerEvent)),
          latencyP50Ms: median(rates.map((f) => f.latencyMs.p50 ?? Number.NaN)),
          latencyP99Ms: median(rates.map((f) => f.latencyMs.p99 ?? Number.NaN)),
          clientSaturated: rates.some((f) => f.clientCpuShare > 0.9),
        }
      : null
    return {
      contestant: entry.name,
      ours: entry.ours,
      resume: entry.resume,
      throughput,
      errors: runs.flatMap((r) => (r.contestant === entry.name && r.error ? [r.error] : [])),
      scenarios,
      rssPerConnectionKB: median(mine.map((r) => r.rssPerConnectionKB ?? Number.NaN)),
      ttfbP50Ms: median(mine.map((r) => r.ttfbMs.p50 ?? Number.NaN)),
      ttfbP99Ms: median(mine.map((r) => r.ttfbMs.p99 ?? Number.NaN)),
      stormMs: median(mine.map((r) => r.stormMs ?? Number.NaN)),
    }
  })
  const floor = rows.find((r) => r.contestant === floorName)
  for (const row of rows) {
    for (const [i, scenario] of row.scenarios.entries()) {
      const base = floor?.scenarios[i]?.cpuUsPerEvent
      Object.assign(scenario, {
        ratioToFloor:
          base && scenario.cpuUsPerEvent !== null ? scenario.cpuUsPerEvent / base : null,
      })
    }
  }
  return rows
}

const started = Date.now()
const runs: Run[] = []
for (let repetition = 0; repetition < settings.repetitions; repetition++) {
  // Rotate the order each repetition so no contestant always runs first (or last).
  const order = selected.map((_, i) => selected[(i + repetition) % selected.length]!)
  for (const entry of order) {
    const run = await measure(entry, repetition)
    runs.push(run)
    const last = run.fanOut.at(-1) ?? run.throughput
    console.log(
      `[${repetition + 1}/${settings.repetitions}] ${entry.name}: ${
        run.error ??
        `${last?.cpuUsPerEvent.toFixed(2)} µs/event, delivery ${((last?.deliveryRatio ?? 0) * 100).toFixed(1)}% at ${last?.clients} clients`
      }`,
    )
  }
}

const summary = summarize(runs)
for (const row of summary) {
  if (row.scenarios.every((s) => s.cpuUsPerEvent === null)) continue // every run failed
  const cpu = row.scenarios.map(
    (s) => `${s.cpuUsPerEvent?.toFixed(2)} µs/event (spread ${s.cpuSpread?.toFixed(2)})`,
  )
  console.log(`median ${row.contestant}: ${cpu.join(', ')}`)
}

const results = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
  settings,
  durationSeconds: Math.round((Date.now() - started) / 1000),
  summary,
  runs,
}
mkdirSync(outDir, { recursive: true })
writeFileSync(
  `${outDir}/${settings.mode === 'default' ? 'latest' : settings.mode}.json`,
  `${JSON.stringify(results, null, 2)}\n`,
)
// The README shows the results of record: the default run, written to the default place.
if (settings.mode !== 'smoke') renderReport(results, outDir, !value('out'))
console.log(`done in ${results.durationSeconds} s; results in ${outDir}`)
