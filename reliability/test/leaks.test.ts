import type { Server } from 'node:http'
import { Worker } from 'node:worker_threads'
import { createHub, MemoryStore } from '@sse/core'
// Not exported by the package: the process-wide ticker every heartbeat and lifetime joins.
import { ticker } from '@sse/core/stream'
import { waitFor } from '@sse/test-utils'
import { afterAll, describe, expect, it } from 'vitest'
import { figure, since, timeFile } from './support/figures'
import { adapters, coreNode } from './support/targets'

timeFile(import.meta.url)

const CYCLES = 10_000
const CONCURRENCY = 100
const WARM_UP = 2000
/**
 * How much the heap (after a full GC) may grow over the 10,000 cycles: a leak of 200 bytes per
 * cycle would show. Runs of this test grow 0.0-0.5 MiB (warm-up that levels off, see the docs).
 */
const HEAP_TOLERANCE = 2 * 1024 * 1024

const gc = (globalThis as { gc?: () => void }).gc
if (!gc)
  throw new Error('the reliability project runs with --expose-gc (reliability/vitest.config.ts)')

/** The connect/abort cycles, run by a worker thread (fixtures/leak-client.mjs). */
const client = new Worker(new URL('./fixtures/leak-client.mjs', import.meta.url))
afterAll(() => client.terminate())

interface CycleResult {
  ok: number
  timeout: number
  kinds: Record<string, number>
}

function cycles(port: number, count: number, cursor: string): Promise<CycleResult> {
  return new Promise((resolve, reject) => {
    const done = (result: CycleResult) => {
      client.off('error', reject)
      resolve(result)
    }
    client.once('message', done)
    client.once('error', reject)
    client.postMessage({ port, count, concurrency: CONCURRENCY, cursor })
  })
}

function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  )
}

function countBy(names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const name of names) out[name] = (out[name] ?? 0) + 1
  return out
}

function listenerCounts(emitter: NodeJS.EventEmitter): Record<string, number> {
  return Object.fromEntries(emitter.eventNames().map((n) => [String(n), emitter.listenerCount(n)]))
}

/** Waits until every stream and connection is gone, collects garbage, and measures. */
async function measure(server: Server, hubSize: () => number) {
  let open = await connections(server)
  await waitFor('every stream to be released', () => hubSize() === 0, { timeout: 30_000 })
  for (const deadline = Date.now() + 30_000; open > 0; open = await connections(server)) {
    if (Date.now() > deadline) throw new Error(`${open} connections still open after 30 s`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  // Let closes, timers and finalizers run, then collect everything that can be.
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    gc!()
  }
  return {
    resources: countBy(process.getActiveResourcesInfo()),
    ticker: ticker.size,
    hub: hubSize(),
    connections: await connections(server),
    serverListeners: listenerCounts(server),
    processListeners: listenerCounts(process),
    heapUsed: process.memoryUsage().heapUsed,
  }
}

describe.each(adapters)('leaks: $name', (target) => {
  it(`is back to its baseline after ${CYCLES.toLocaleString('en')} connect/abort cycles`, async () => {
    const hub = createHub({ store: new MemoryStore({ maxEvents: 100 }), heartbeat: 5000 })
    const sut = await target.start({ options: () => ({ hub }) })
    const server = sut.server as Server
    const port = Number(new URL(sut.url).port)
    try {
      await hub.publish({ data: 'to replay' })
      // The cursor after the first event: a resume from it replays the second.
      const cursor = await hub.cursor()
      await hub.publish({ data: 'to replay too' })
      // Warm up (JIT, lazily created module state, the first timers), then take the baseline.
      await cycles(port, WARM_UP, cursor)
      const before = await measure(server, () => hub.size)
      const start = performance.now()
      const { timeout: timeouts, kinds } = await cycles(port, CYCLES, cursor)
      const ms = since(start)
      const after = await measure(server, () => hub.size)
      const heapGrowth = after.heapUsed - before.heapUsed
      const total = (counts: Record<string, number>) =>
        Object.values(counts).reduce((a, b) => a + b, 0)
      figure('leaks', target.name, {
        cycles: Object.values(kinds).reduce((a, b) => a + b, 0),
        timeouts,
        seconds: ms / 1000,
        cyclesPerSecond: Math.round(CYCLES / (ms / 1000)),
        handles: `${total(before.resources)} → ${total(after.resources)}`,
        ticker: `${before.ticker} → ${after.ticker}`,
        hub: `${before.hub} → ${after.hub}`,
        connections: `${before.connections} → ${after.connections}`,
        listeners: `${total(before.serverListeners) + total(before.processListeners)} → ${total(after.serverListeners) + total(after.processListeners)}`,
        heapGrowthKiB: heapGrowth / 1024,
        bytesPerCycle: heapGrowth / CYCLES,
      })
      expect(timeouts).toBe(0)
      expect(after.resources).toEqual(before.resources)
      expect(after.ticker).toBe(before.ticker)
      expect(after.hub).toBe(0)
      expect(after.connections).toBe(0)
      expect(after.serverListeners).toEqual(before.serverListeners)
      expect(after.processListeners).toEqual(before.processListeners)
      expect(heapGrowth).toBeLessThan(HEAP_TOLERANCE)
    } finally {
      await hub.shutdown({ grace: 100 })
      await sut.close()
    }
  })
})

describe('leaks: the check itself', () => {
  it('catches a server that keeps every stream it served (a negative control)', async () => {
    const hub = createHub({ store: new MemoryStore({ maxEvents: 100 }), heartbeat: 5000 })
    const kept: unknown[] = []
    const sut = await coreNode.start({ options: () => ({ hub }), onOpen: (s) => void kept.push(s) })
    const server = sut.server as Server
    const port = Number(new URL(sut.url).port)
    try {
      await hub.publish({ data: 'to replay' })
      const cursor = await hub.cursor()
      await hub.publish({ data: 'to replay too' })
      await cycles(port, 500, cursor)
      const before = await measure(server, () => hub.size)
      await cycles(port, 2000, cursor)
      const after = await measure(server, () => hub.size)
      const growth = after.heapUsed - before.heapUsed
      figure('leaks', 'control: core node:http keeping every session', {
        cycles: 2000,
        heapGrowthKiB: growth / 1024,
        bytesPerCycle: growth / 2000,
      })
      expect(growth).toBeGreaterThan(HEAP_TOLERANCE)
    } finally {
      kept.length = 0
      await hub.shutdown({ grace: 100 })
      await sut.close()
    }
  })
})
