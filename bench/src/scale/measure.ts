/**
 * One run of the scale benchmark at one server process count: start the servers on the shared
 * Redis, open every connection, measure idle memory, broadcast for the window, collect.
 */
import { Peer } from './children.ts'
import { type Histogram, merge, quantile } from './histogram.ts'
import type { Redis } from './redis.ts'
import { planClients, type Settings } from './settings.ts'

export interface RunResult {
  processes: number
  clientProcesses: number
  sourceAddresses: string[]
  connections: {
    total: number
    perProcess: number[]
    failed: number
    errors: Record<string, number>
  }
  openSeconds: number
  rssPerConnectionKB: number
  sent: number
  publishFailed: number
  delivered: number
  deliveryRatio: number
  eventsPerSecond: number
  serverCpuUsPerEvent: number
  /** Server CPU over the window, summed over the server processes, in % of one core. */
  serverCpuPercent: number
  /** Each client process' CPU over the window, in % of one core: near 100, it measured itself. */
  clientCpuPercent: number[]
  /** Client CPU (all client processes) per delivered event: what the load itself costs. */
  clientCpuUsPerEvent: number
  redisCpuPercent: number
  latencyMs: { p50: number | null; p99: number | null; max: number | null; samples: number }
  storeErrors: number
}

interface Collected {
  delivered: number
  deliveryMs: number
  open: number
  latency: Histogram
  cpuUs: number
  wallMs: number
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
const log = (line: string) => console.log(`  ${new Date().toISOString().slice(11, 19)} ${line}`)

export async function measure(
  settings: Settings,
  processes: number,
  redis: Redis,
  firstAddress: number,
): Promise<RunResult> {
  const servers: Peer[] = []
  const clients: Peer[] = []
  try {
    log(`${processes} server process(es): starting`)
    for (let i = 0; i < processes; i++) {
      servers.push(new Peer('./server.ts', [redis.url, `scale-${processes}:`], ['--expose-gc']))
    }
    const started = await Promise.all(servers.map((s) => s.ready<{ port: number; rss: number }>()))
    const { plans, addresses } = planClients(
      settings,
      started.map((s) => s.port),
      firstAddress,
    )
    clients.push(...plans.map(() => new Peer('./client.ts', [])))
    await Promise.all(clients.map((c) => c.ready()))

    // Every client process opens its share at once; progress at most once a second.
    const total = processes * settings.perProcess
    const progress = plans.map(() => ({ done: 0, failed: 0 }))
    const openStart = performance.now()
    let printed = performance.now()
    for (const [i, client] of clients.entries()) {
      client.onProgress = (p) => {
        progress[i] = p as { done: number; failed: number }
        if (performance.now() - printed < 1000) return
        printed = performance.now()
        const done = sum(progress.map((q) => q.done))
        const failed = sum(progress.map((q) => q.failed))
        const seconds = (performance.now() - openStart) / 1000
        log(`connecting ${done}/${total} (${failed} failed), ${seconds.toFixed(1)} s`)
      }
    }
    log(
      `opening ${total} connections: ${clients.length} client process(es), ${addresses.join(' ')}`,
    )
    const opened = await Promise.all(
      clients.map((c, i) =>
        // Generous: each socket waits at most a minute for its response, 250 at a time.
        c.ask<{ opened: number; failed: number; errors: Record<string, number> }>(
          { cmd: 'connect', plan: plans[i] },
          30 * 60_000,
        ),
      ),
    )
    const openSeconds = (performance.now() - openStart) / 1000
    const errors: Record<string, number> = {}
    for (const o of opened) {
      for (const [code, n] of Object.entries(o.errors)) errors[code] = (errors[code] ?? 0) + n
    }
    const failed = sum(opened.map((o) => o.failed))
    log(`opened ${sum(opened.map((o) => o.opened))}/${total} in ${openSeconds.toFixed(1)} s`)
    if (failed) log(`failed: ${JSON.stringify(errors)}`)

    // Idle memory: every stream open, nothing sent yet (gc() first, in the server).
    const memory = await Promise.all(
      servers.map((s) => s.ask<{ rss: number; streams: number }>({ cmd: 'memory' })),
    )
    const perProcess = memory.map((m) => m.streams)
    const held = sum(perProcess)
    const rssGrowth = sum(memory.map((m, i) => m.rss - started[i]!.rss))

    log(`broadcasting ${settings.rate} event(s)/s for ${settings.seconds} s`)
    await Promise.all(clients.map((c) => c.ask({ cmd: 'reset' })))
    await Promise.all(servers.map((s) => s.ask({ cmd: 'cpu-start' })))
    const redisStart = await redis.cpuSeconds()
    const windowStart = performance.now()
    const sent = await servers[0]!.ask<{ sent: number; failed: number }>(
      { cmd: 'broadcast', rate: settings.rate, seconds: settings.seconds, bytes: settings.bytes },
      settings.seconds * 1000 + 60_000,
    )
    // Servers that fall behind get as long again as the window to catch up: how far behind they
    // fell shows in delivered/s and latency, and what never comes in the delivery ratio.
    const timeoutMs = 10_000 + settings.seconds * 1000
    const collected = await Promise.all(
      clients.map((c) =>
        c.ask<Collected>({ cmd: 'collect', sent: sent.sent, timeoutMs }, timeoutMs + 60_000),
      ),
    )
    const cpu = await Promise.all(
      servers.map((s) => s.ask<{ cpuUs: number; storeErrors: number }>({ cmd: 'cpu-read' })),
    )
    const redisSeconds = (await redis.cpuSeconds()) - redisStart
    const windowMs = performance.now() - windowStart

    const delivered = sum(collected.map((c) => c.delivered))
    const serverCpuUs = sum(cpu.map((c) => c.cpuUs))
    const latency = merge(collected.map((c) => c.latency))
    // Over the time deliveries really took: a server that falls behind takes longer.
    const deliveryMs = Math.max(settings.seconds * 1000, ...collected.map((c) => c.deliveryMs))
    return {
      processes,
      clientProcesses: clients.length,
      sourceAddresses: addresses,
      connections: { total: held, perProcess, failed, errors },
      openSeconds,
      rssPerConnectionKB: held ? rssGrowth / 1024 / held : Number.NaN,
      sent: sent.sent,
      publishFailed: sent.failed,
      delivered,
      deliveryRatio: delivered / Math.max(1, sent.sent * held),
      eventsPerSecond: delivered / (deliveryMs / 1000),
      serverCpuUsPerEvent: serverCpuUs / Math.max(1, delivered),
      serverCpuPercent: (serverCpuUs / 1000 / windowMs) * 100,
      clientCpuPercent: collected.map((c) => (c.cpuUs / 1000 / c.wallMs) * 100),
      clientCpuUsPerEvent: sum(collected.map((c) => c.cpuUs)) / Math.max(1, delivered),
      redisCpuPercent: ((redisSeconds * 1000) / windowMs) * 100,
      latencyMs: {
        p50: quantile(latency, 0.5),
        p99: quantile(latency, 0.99),
        max: latency.total ? latency.max : null,
        samples: latency.total,
      },
      storeErrors: sum(cpu.map((c) => c.storeErrors)),
    }
  } finally {
    // Servers first: the kernel closes their sockets first, so TIME_WAIT stays on their side.
    await Promise.allSettled(servers.map((s) => s.stop()))
    await Promise.allSettled(clients.map((c) => c.stop()))
  }
}
