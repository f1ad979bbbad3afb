/**
 * `pnpm bench:scale`: @sse/core on node:http with a RedisStore shared by 1, 2 and 4 server
 * processes, each holding as many SSE connections as one process may (18,000 under the 20,000
 * open files limit), while one of them broadcasts to all through Redis. Writes
 * `results/scale.json` (`results/tmp/scale-smoke.json` for --smoke) and prints a markdown table.
 *
 * Flags: `--processes=1,2,4`, `--per-process=18000`, `--rate=1` (events/s), `--seconds=10`,
 * `--smoke` (1 and 2 processes × 500 connections, 3 s), and the tuning ones `--sample-every=10`,
 * `--per-client=18000`, `--per-address=14000`, `--in-flight=250`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { killAll } from './children.ts'
import { measure, type RunResult } from './measure.ts'
import { startRedis } from './redis.ts'
import { table } from './report.ts'
import { parseSettings } from './settings.ts'

const settings = parseSettings(process.argv.slice(2))
// Each socket is a file: a process past the limit fails with EMFILE midway through a run.
if (settings.perProcess > 19_000 || settings.perClient > 19_000) {
  throw new Error('at most 19,000 sockets per process: the limit is 20,000 open files')
}

const started = Date.now()
const load = loadavg()
console.log(
  `scale: ${settings.processes.join(', ')} server process(es) × ${settings.perProcess} connections, ` +
    `${settings.rate} event(s)/s of ${settings.bytes} B for ${settings.seconds} s ` +
    `(load average ${load.map((l) => l.toFixed(2)).join(' ')})`,
)

const runs: (RunResult | { processes: number; error: string })[] = []
const redis = await startRedis()
try {
  // Source addresses from 127.0.0.2 on, new ones each run (see planClients).
  let nextAddress = 2
  for (const processes of settings.processes) {
    const began = Date.now()
    try {
      const run = await measure(settings, processes, redis, nextAddress)
      nextAddress += run.sourceAddresses.length
      runs.push(run)
      console.log(
        `  ${run.connections.total} held, ${(run.deliveryRatio * 100).toFixed(1)}% delivered, ` +
          `server ${run.serverCpuUsPerEvent.toFixed(2)} µs/event (clients ` +
          `${run.clientCpuUsPerEvent.toFixed(2)}), p99 ${run.latencyMs.p99?.toFixed(1)} ms`,
      )
    } catch (error) {
      runs.push({ processes, error: (error as Error).message })
      // Addresses the failed run may have used: skip generously.
      nextAddress += Math.max(2, Math.ceil((processes * settings.perProcess) / settings.perAddress))
    }
    console.log(`  ${processes} process(es) done in ${((Date.now() - began) / 1000).toFixed(1)} s`)
  }
} finally {
  await redis.stop()
  killAll()
}

const results = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtStart: load,
  },
  settings,
  durationSeconds: Math.round((Date.now() - started) / 1000),
  runs,
}
// A smoke run's figures are no result: they go to the ignored results/tmp/.
const dir = fileURLToPath(
  new URL(settings.mode === 'smoke' ? '../../results/tmp/' : '../../results/', import.meta.url),
)
const file = `${dir}${settings.mode === 'smoke' ? 'scale-smoke' : 'scale'}.json`
mkdirSync(dir, { recursive: true })
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)

console.log(`\n${table(runs)}\n`)
console.log(`done in ${results.durationSeconds} s; results in ${file}`)
if (runs.some((r) => 'error' in r)) process.exitCode = 1
